import { ActionsHost } from './adapters/hosts/actions-host.js'
import { realServices } from './adapters/services.js'
import { run } from './main.js'

// Tool output (docker build) goes where the host logs.
const host = new ActionsHost()
await run(host, realServices(host.log))
