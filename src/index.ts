import { ActionsHost } from './adapters/actions-host.js'
import { run } from './main.js'

await run(new ActionsHost())
