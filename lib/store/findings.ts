// Findings from work detection, one item per (project, fingerprint): reporting the same finding
// again refreshes it instead of filing it twice; status changes follow the finding graph.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FindingSchema, NewFindingSchema, type Finding, type FindingKind, type NewFinding, type Severity } from '../domain/finding';
import { transitionFinding, type FindingStatus } from '../domain/status';
import { now, type StoreConfig } from './config';
import { AlreadyExistsError } from './errors';
import { decodeItem, indexCursor, queryPage, tableCursor, VersionedItems, withoutUndefined, type Page, type PageRequest } from './items';
import { findingIndexKeys, findingKey, findingsByStatusPk, PREFIX, projectPk } from './keys';
import { updateWithRetry, type RetryOptions } from './retry';

export type FindingChanges = Partial<Pick<Finding, 'status' | 'goalId'>>;

export interface FindingListRequest extends PageRequest {
  /** With a status: best score first (GSI1). Without: every finding, by fingerprint. */
  status?: FindingStatus;
  /** Only this detector's findings. Applied after the page is read, so a page may hold fewer than `limit`. */
  detector?: string;
  /** Only findings of this severity (same caveat). */
  severity?: Severity;
  /** Only problems or only proposals (same caveat). */
  kind?: FindingKind;
}

/** DynamoDB filter expression parts for the optional detector, severity and kind filters. */
function findingFilter(request: FindingListRequest): { FilterExpression?: string; ExpressionAttributeNames?: Record<string, string>; values: Record<string, unknown> } {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (request.detector !== undefined) {
    clauses.push('#detector = :detector');
    names['#detector'] = 'detector';
    values[':detector'] = request.detector;
  }
  if (request.severity !== undefined) {
    clauses.push('#severity = :severity');
    names['#severity'] = 'severity';
    values[':severity'] = request.severity;
  }
  if (request.kind !== undefined) {
    // Findings stored before kinds existed have none and are problems.
    clauses.push(request.kind === 'problem' ? '(attribute_not_exists(#kind) OR #kind = :kind)' : '#kind = :kind');
    names['#kind'] = 'kind';
    values[':kind'] = request.kind;
  }
  return clauses.length === 0 ? { values } : { FilterExpression: clauses.join(' AND '), ExpressionAttributeNames: names, values };
}

export class FindingRepository {
  private readonly items: VersionedItems<Finding>;

  constructor(
    private readonly store: StoreConfig,
    private readonly retry: RetryOptions = {},
  ) {
    this.items = new VersionedItems(store, {
      entity: 'finding',
      schema: FindingSchema,
      keyOf: (f) => findingKey(f.projectId, f.fingerprint),
      indexKeysOf: findingIndexKeys,
      immutable: ['projectId', 'fingerprint', 'detector', 'kind', 'firstSeenAt'],
      idOf: (f) => f.fingerprint,
    });
  }

  /**
   * Files a finding, or — when its fingerprint is already on file — refreshes the detector's
   * description, bumps `seenCount` and `lastSeenAt`, and leaves status and goal alone, so a
   * dismissed finding stays dismissed. `created` tells the caller whether it is new.
   */
  async upsert(input: NewFinding): Promise<{ finding: Finding; created: boolean }> {
    const fields = NewFindingSchema.parse(input);
    const at = now(this.store).toISOString();
    try {
      const finding = await this.items.create({ ...fields, status: 'open', firstSeenAt: at, lastSeenAt: at, seenCount: 1, version: 1 });
      return { finding, created: true };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    // The refresh writes only detector-owned fields, never status/goalId/version, so it cannot
    // clobber a concurrent status change and needs no version check.
    const out = await this.store.client.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: findingKey(fields.projectId, fields.fingerprint),
        UpdateExpression:
          'SET title = :title, severity = :severity, effort = :effort, score = :score, #location = :location, lastSeenAt = :at, GSI1SK = :gsi1sk' +
          (fields.detail === undefined ? ' REMOVE detail' : ', detail = :detail') +
          ' ADD seenCount :one',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#location': 'location' },
        ExpressionAttributeValues: withoutUndefined({
          ':title': fields.title,
          ':severity': fields.severity,
          ':effort': fields.effort,
          ':score': fields.score,
          ':location': fields.location,
          ':at': at,
          ':gsi1sk': findingIndexKeys({ ...fields, status: 'open' }).GSI1SK,
          ':detail': fields.detail,
          ':one': 1,
        }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { finding: decodeItem(FindingSchema, 'finding', out.Attributes ?? {}), created: false };
  }

  find(projectId: string, fingerprint: string): Promise<Finding | undefined> {
    return this.items.get(findingKey(projectId, fingerprint));
  }

  get(projectId: string, fingerprint: string): Promise<Finding> {
    return this.items.getOrThrow(findingKey(projectId, fingerprint), fingerprint);
  }

  update(current: Finding, changes: FindingChanges): Promise<Finding> {
    const { resolvedAt: _previous, ...rest } = current;
    let resolvedAt = current.resolvedAt;
    if (changes.status !== undefined && changes.status !== current.status) {
      transitionFinding(current.status, changes.status, current.fingerprint);
      resolvedAt = changes.status === 'resolved' ? now(this.store).toISOString() : undefined;
    }
    return this.items.update(current, { ...rest, ...changes, ...(resolvedAt ? { resolvedAt } : {}) });
  }

  /** Moves a finding to `status` (recording the goal created from it, if any), retrying on conflict. */
  setStatus(projectId: string, fingerprint: string, status: FindingStatus, goalId?: string): Promise<Finding> {
    return updateWithRetry(
      () => this.get(projectId, fingerprint),
      (f) => this.update(f, { status, ...(goalId ? { goalId } : {}) }),
      this.retry,
    );
  }

  list(projectId: string, request: FindingListRequest = {}): Promise<Page<Finding>> {
    const decode = (item: Record<string, unknown>) => decodeItem(FindingSchema, 'finding', item);
    const { values, ...filter } = findingFilter(request);
    if (request.status) {
      const pk = findingsByStatusPk(projectId, request.status);
      return queryPage(
        this.store,
        { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': pk, ...values }, ScanIndexForward: false, ...filter },
        request,
        indexCursor('GSI1', pk),
        decode,
      );
    }
    return queryPage(
      this.store,
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': projectPk(projectId), ':sk': PREFIX.finding, ...values },
        ...filter,
      },
      request,
      tableCursor(projectPk(projectId), PREFIX.finding),
      decode,
    );
  }
}
