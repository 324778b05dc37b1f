/**
 * Stands in for `@aws-sdk/client-eventbridge` in the bench's "EventBridge
 * client left out" bundles (section bundle-choice), which are imported to time
 * them and never invoked: how much a lazy import of the client could save at
 * most.
 */
export class EventBridgeClient {
  send(): never {
    throw new Error('The bench left the EventBridge client out of this bundle');
  }
}

export class PutEventsCommand {
  constructor(readonly input: unknown) {}
}
