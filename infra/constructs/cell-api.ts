// The cell's REST API: API Gateway with AWS_IAM on every route but the GitHub webhook (which the
// handler authenticates by its HMAC signature), one Lambda per route of the API's route table
// (lib/api/routes.ts) granted only what that route touches, a JSON-object body check at the edge,
// stage and per-route throttling and a usage plan, JSON access logs in a log group encrypted with
// the customer key, X-Ray tracing, and error responses in the API's own error shape.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodDeploymentOptions,
  type Model,
  Period,
  type RequestValidator,
  ResponseType,
  RestApi,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { API_ROUTES, type RouteDefinition, type TableAccess } from '../../lib/api/routes';
import type { ProjectDefaults } from '../../lib/domain/settings';
import { RUNTIME_ENV } from '../../lib/runtime-env';
import type { EgressMode } from '../config/customer-config';
import { cellResourceName } from '../naming';
import { nagResourceText } from '../nag';
import { AWS_PORTS_ENV, cellDeploymentEnvironment } from '../runtime-environment';
import { AgentFunction } from './agent-function';
import type { AgentPlacement } from './cell-network';
import { type CellSecretReferences, cellSecretsPrefix, grantSecretsRead } from './cell-secrets';
import { createEncryptedLogGroup } from './encrypted-log-group';
import type { DetectionSchedules } from './detection-schedules';
import type { DetectWorkStateMachine } from './detect-work-state-machine';
import type { PipelineStateMachine } from './pipeline-state-machine';

/** Steady-state requests per second across the stage, and the burst above it. */
export const DEFAULT_API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * API handlers answer within seconds (a few table reads and writes, one Step Functions call);
 * API Gateway gives up on an integration after 29 s anyway.
 */
export const API_FUNCTION_TIMEOUT = Duration.seconds(25);
export const API_FUNCTION_MEMORY_MB = 512;

export interface CellApiProps {
  readonly customerId: string;
  /** The cell key: encrypts the access log group and the functions' log groups. */
  readonly encryptionKey: IKey;
  /** Where the API functions run (the table and Step Functions are reached through the VPC endpoints). */
  readonly placement: AgentPlacement;
  /** The state table's name, passed to functions as TABLE_NAME. */
  readonly tableName: string;
  /** Grants table access the way the store uses it; `ServiceStack.grantStateTable` fits. */
  readonly grantTableAccess: (grantee: IGrantable, access: Exclude<TableAccess, 'none'>) => Grant;
  /** The goal pipeline: started, stopped and answered (approvals) by the API. */
  readonly pipeline: PipelineStateMachine;
  /** Work detection (DetectWorkStateMachine), started by routes whose `touches.pipeline` holds `detect`. */
  readonly detection?: Pick<DetectWorkStateMachine, 'stateMachineArn' | 'grantStartExecution'>;
  /** The cell's secrets; each route's function may read those its `touches.secrets` names. */
  readonly secrets: CellSecretReferences;
  /** Projects' detection schedules, saved by the routes that touch `schedules`. */
  readonly detectionSchedules?: DetectionSchedules;
  /** The cell's egress setting, which the API checks repository hosts against. */
  readonly egress: EgressMode;
  /** The customer file's settings for new projects, given to the routes that read them. */
  readonly projectDefaults?: ProjectDefaults;
  /** Stage-wide throttling, and the usage plan's. Defaults to DEFAULT_API_THROTTLE. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Optional request quota on the usage plan. */
  readonly quota?: { readonly limit: number; readonly period: Period };
  /** Defaults to `v1`; the deployed base path is `/<stageName>`. */
  readonly stageName?: string;
  readonly logRetention?: RetentionDays;
  /** An AWS WAFv2 web ACL (regional) to associate with the stage. */
  readonly webAclArn?: string;
  /**
   * API Gateway execution logs (ERROR level). They need the account-wide API Gateway CloudWatch
   * role, which one cell must not create for the whole account, so they are off unless the
   * account already has it.
   */
  readonly executionLogging?: boolean;
  /** Routes to serve; the full table by default. Tests pass a subset. */
  readonly routes?: readonly RouteDefinition[];
  /** Folder the handler entries are relative to; defaults to `functions/`. Tests point it at fixtures. */
  readonly sourceRoot?: string;
}

export class CellApi extends Construct {
  readonly api: RestApi;
  readonly accessLogGroup: LogGroup;
  readonly usagePlan: UsagePlan;
  /** One function per route, by operationId. */
  readonly functions: Readonly<Record<string, AgentFunction>>;

  constructor(scope: Construct, id: string, props: CellApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? DEFAULT_API_THROTTLE;
    const routes = props.routes ?? API_ROUTES;

    this.accessLogGroup = createEncryptedLogGroup(this, 'AccessLogs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: cellResourceName(props.customerId, 'api'),
      description: `Cahoots API of cell ${props.customerId}`,
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // The account-level CloudWatch role is shared by every API in the region; see executionLogging.
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        // Request and response bodies hold customer code and prompts; they never go to logs.
        dataTraceEnabled: false,
        loggingLevel: props.executionLogging ? MethodLoggingLevel.ERROR : MethodLoggingLevel.OFF,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
        methodOptions: methodThrottling(routes),
      },
    });

    this.addErrorResponses();
    const bodyCheck = this.addBodyCheck();

    const functions: Record<string, AgentFunction> = {};
    for (const route of routes) {
      const fn = this.addRouteFunction(route, props);
      functions[route.operationId] = fn;
      const requiresBody = route.body?.required === true;
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn.function, { allowTestInvoke: false }), {
        operationName: route.operationId,
        // GitHub cannot sign with AWS credentials; the handler verifies its HMAC signature instead.
        ...(route.auth === 'github-signature' ? { authorizationType: AuthorizationType.NONE } : {}),
        ...(requiresBody ? { requestValidator: bodyCheck.validator, requestModels: { 'application/json': bodyCheck.model } } : {}),
      });
    }
    this.functions = functions;

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      name: cellResourceName(props.customerId, 'api'),
      description: 'Limits for API clients; the stage throttle applies to every caller, keys or not.',
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      ...(props.quota ? { quota: { limit: props.quota.limit, period: props.quota.period } } : {}),
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });

    if (props.webAclArn) {
      new CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn });
    }
    this.acknowledgeFindings(props);
  }

  /** The stage's invoke URL, e.g. `https://<id>.execute-api.<region>.amazonaws.com/v1/`. */
  get url(): string {
    return this.api.url;
  }

  /** The stage's base URL without the trailing slash, as the CLI's `--endpoint` takes it. */
  get baseUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${this.api.deploymentStage.stageName}`;
  }

  /** Lets a principal call every route (execute-api:Invoke on this stage). */
  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.api.deploymentStage.stageName)],
    });
  }

  private addRouteFunction(route: RouteDefinition, props: CellApiProps): AgentFunction {
    const { table, pipeline, secrets = [] } = route.touches;
    const environment: Record<string, string> = cellDeploymentEnvironment(props.egress);
    if (table !== 'none') environment.TABLE_NAME = props.tableName;
    if (pipeline.some((action) => action !== 'detect')) environment.STATE_MACHINE_ARN = props.pipeline.stateMachineArn;
    if (pipeline.includes('detect')) {
      if (!props.detection) throw new Error(`${route.method} ${route.path} starts work detection, but CellApi was given no DetectWork state machine`);
      environment[AWS_PORTS_ENV.detectWorkStateMachineArn] = props.detection.stateMachineArn;
    }
    if (secrets.length > 0) environment[AWS_PORTS_ENV.secretsPrefix] = cellSecretsPrefix(props.customerId);
    if (route.readsProjectDefaults && props.projectDefaults) environment[RUNTIME_ENV.projectDefaults] = JSON.stringify(props.projectDefaults);
    const schedules = route.touches.schedules ? props.detectionSchedules : undefined;
    if (schedules) Object.assign(environment, schedules.environment);

    const fn = new AgentFunction(this, pascalCase(route.operationId), {
      entry: `api/${route.handler}.ts`,
      sourceRoot: props.sourceRoot,
      serviceName: 'cahoots-api',
      description: `${route.method} ${route.path}`,
      encryptionKey: props.encryptionKey,
      placement: props.placement,
      timeout: API_FUNCTION_TIMEOUT,
      memorySize: API_FUNCTION_MEMORY_MB,
      logRetention: props.logRetention,
      environment,
    });

    if (table !== 'none') props.grantTableAccess(fn, table);
    grantSecretsRead(fn, props.secrets, secrets);
    schedules?.grantScheduleWrites(fn, fn.role);
    if (pipeline.includes('start')) props.pipeline.grantStartExecution(fn);
    if (pipeline.includes('answer')) props.pipeline.grantTaskResponse(fn);
    if (pipeline.includes('detect')) props.detection?.grantStartExecution(fn);
    // Starting asks DescribeExecution when the goal's execution name is already taken (a retry);
    // stopping asks it when StopExecution fails, to tell "already ended" from a real failure.
    const executionActions = [
      ...(pipeline.includes('stop') ? ['states:StopExecution'] : []),
      ...(pipeline.includes('start') || pipeline.includes('stop') ? ['states:DescribeExecution'] : []),
    ];
    if (executionActions.length > 0) this.grantOnExecutions(fn, executionActions, props);
    return fn;
  }

  /**
   * Actions on the pipeline's executions, whose names (one per goal) are only known at run time,
   * hence the `:*`. DescribeExecution returns the encrypted input (Decrypt) and StopExecution
   * encrypts its cause (GenerateDataKey), both limited to this state machine's encryption context.
   */
  private grantOnExecutions(fn: AgentFunction, actions: string[], props: CellApiProps): void {
    const stack = Stack.of(this);
    // Built from the state machine's fixed name, so it stays a literal when the pipeline lives in
    // another stack (a name split out of a cross-stack ARN would not match the nag finding).
    const executions = props.pipeline.executionArnPattern;
    Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [executions] });
    Grant.addToPrincipal({
      grantee: fn,
      actions: actions.includes('states:StopExecution') ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      resourceArns: [props.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': props.pipeline.stateMachineArn } },
    });
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResourceText(stack, executions)}]`,
      reason: `${actions.join(' and ')} apply to executions of the goal pipeline only; each goal's execution is named after the goal, so the execution part of the ARN can only be a wildcard.`,
    });
  }

  /**
   * Errors API Gateway answers itself (missing signature, throttling, WAF, oversized request)
   * come back in the same `{"error": {"code", "message"}}` shape the handlers use.
   */
  private addErrorResponses(): void {
    const template = { 'application/json': '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}' };
    const headers = { 'Content-Type': "'application/json'" };
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, templates: template, responseHeaders: headers });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, templates: template, responseHeaders: headers });
  }

  /**
   * The edge check for body routes: the body must be a JSON object. Field rules stay in the
   * handler (the same zod schemas the local runtime uses), so a client sees the same detailed
   * 400 locally and in AWS; the edge only turns away what is not even an object, and the
   * handler's 256 KB limit stays the real size limit (API Gateway's own is 10 MB).
   */
  private addBodyCheck(): { model: Model; validator: RequestValidator } {
    const model = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      description: 'Any JSON object; fields are validated by the handler.',
      schema: { schema: JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: JsonSchemaType.OBJECT },
    });
    const validator = this.api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      // No route declares required query parameters (all are optional), so this adds no check
      // of its own; path parameters are required by the resource match already.
      validateRequestParameters: true,
    });
    return { model, validator };
  }

  private acknowledgeFindings(props: CellApiProps): void {
    if (!props.webAclArn) {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG3',
        reason:
          'Every route requires SigV4-signed requests from IAM principals of this account, and the stage is throttled; a WAF web ACL costs a fixed monthly fee per cell and is available through the customer file’s webAclArn for customers who want one.',
      });
    }
    if (!props.executionLogging) {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG6',
        reason:
          'Access logs (JSON, every request) are on. Execution logs need the account-wide API Gateway CloudWatch role, which a cell must not create or replace for the whole account; enable them with executionLogging where the account has that role.',
      });
    }
    const signedByGitHub = new Set(
      (props.routes ?? API_ROUTES).filter((route) => route.auth === 'github-signature').map((route) => `${route.method} ${route.path}`),
    );
    for (const method of this.api.methods) {
      if (signedByGitHub.has(`${method.httpMethod} ${method.resource.path}`)) {
        const reason =
          'Called by GitHub, which cannot sign requests with AWS credentials: the handler verifies the X-Hub-Signature-256 HMAC of the body against the webhook secret before reading anything and answers 401 otherwise; the method is throttled on its own, below the stage limit.';
        Validations.of(method).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason });
        Validations.of(method).acknowledge({ id: 'AwsSolutions::AwsSolutions-COG4', reason });
        continue;
      }
      Validations.of(method).acknowledge({
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason: 'Authorized with AWS_IAM (SigV4): callers are IAM principals of the customer account, not Cognito users.',
      });
    }
  }
}

/** Stage method settings for routes with a limit of their own, keyed `<resource path>/<METHOD>`. */
function methodThrottling(routes: readonly RouteDefinition[]): Record<string, MethodDeploymentOptions> {
  const options: Record<string, MethodDeploymentOptions> = {};
  for (const route of routes) {
    if (!route.throttle) continue;
    options[`${route.path}/${route.method}`] = { throttlingRateLimit: route.throttle.rateLimit, throttlingBurstLimit: route.throttle.burstLimit };
  }
  return options;
}

/** One JSON line per request: who called what, the outcome, and the ids to find it in traces and logs. */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      errorType: AccessLogField.contextErrorResponseType(),
      errorMessage: AccessLogField.contextErrorMessage(),
      sourceIp: AccessLogField.contextIdentitySourceIp(),
      userArn: AccessLogField.contextIdentityUserArn(),
      userAgent: AccessLogField.contextIdentityUserAgent(),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
    }),
  );
}

/**
 * A resource ARN the way cdk-nag writes it into a finding id: the resolved string, with any
 * intrinsic inside it as JSON. The acknowledgement must name the exact finding.
 */
function pascalCase(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
