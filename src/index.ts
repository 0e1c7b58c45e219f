import { ActionsHost } from './adapters/hosts/actions-host.js'
import { run } from './main.js'

await run(new ActionsHost())
