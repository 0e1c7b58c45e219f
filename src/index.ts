import { ActionsHost } from './adapters/hosts/actions-host.js'
import { realServices } from './adapters/services.js'
import { run } from './main.js'

await run(new ActionsHost(), realServices(process.stdout))
