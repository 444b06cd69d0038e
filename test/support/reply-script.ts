// The scripted answers of a model-provider fake: replies queued for one model are taken before the
// shared queue, then a request handler may answer, else the fake's own "nothing scripted" reply.
// Both wire fakes (Bedrock Converse, OpenAI Chat Completions) keep their script here.

export type ReplyHandler<Request, Reply> = (request: Request) => Reply | Promise<Reply>;

export class ReplyScript<Request, Reply> {
  private readonly shared: Reply[] = [];
  private readonly perModel = new Map<string, Reply[]>();
  private handler: ReplyHandler<Request, Reply> | undefined;

  reply(replies: Reply[]): void {
    this.shared.push(...replies);
  }

  replyFor(model: string, replies: Reply[]): void {
    this.perModel.set(model, [...(this.perModel.get(model) ?? []), ...replies]);
  }

  onRequest(handler: ReplyHandler<Request, Reply> | undefined): void {
    this.handler = handler;
  }

  async next(model: string, request: Request, unscripted: () => Reply): Promise<Reply> {
    const own = this.perModel.get(model);
    if (own && own.length > 0) return own.shift()!;
    if (this.shared.length > 0) return this.shared.shift()!;
    if (this.handler) return this.handler(request);
    return unscripted();
  }

  pending(): number {
    return this.shared.length + [...this.perModel.values()].reduce((n, queue) => n + queue.length, 0);
  }

  reset(): void {
    this.shared.length = 0;
    this.perModel.clear();
    this.handler = undefined;
  }
}
