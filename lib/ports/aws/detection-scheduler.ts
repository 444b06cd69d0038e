// DetectionScheduler over EventBridge Scheduler: one schedule per project whose detection is on,
// named after the project in the cell's schedule group, starting the DetectWork state machine with
// `{"projectId", "trigger": "schedule"}` through the scheduler's execution role.
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Schedule } from '../../domain/project';
import { logger } from '../../powertools';
import type { DetectionRequest, DetectionScheduler } from '../index';
import { PortError } from '../errors';
import { schedulerClient } from './clients';
import { type CellPortFactory, unconfigured } from './cell-ports';
import { AWS_PORTS_ENV } from './config';

/**
 * Detection need not start on the minute: a window lets EventBridge Scheduler spread the projects
 * of a cell that share a time (and their checkouts and model calls) over a quarter of an hour.
 */
export const DETECTION_FLEXIBLE_WINDOW_MINUTES = 15;

/**
 * A failed StartExecution (throttling, a state machine being updated) is retried for up to an
 * hour; a run that could not start by then is stale, and goes to the dead-letter queue instead.
 */
export const DETECTION_RETRY_POLICY = { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3_600 } as const;

/** The schedule of a project: unique in the group, within the 64 characters the service allows. */
export function detectionScheduleName(projectId: string): string {
  return `detect-${projectId}`;
}

/** EventBridge Scheduler refused a schedule; the message names the project and the service's reason. */
export class DetectionScheduleError extends PortError {
  readonly code = 'DetectionSchedule';
  constructor(
    readonly projectId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`The detection schedule of project ${projectId} could not be saved: ${message}`, options);
  }
}

export interface EventBridgeDetectionSchedulerOptions {
  groupName: string;
  detectWorkStateMachineArn: string;
  /** The role the scheduler assumes: states:StartExecution on DetectWork, sqs:SendMessage on the DLQ. */
  roleArn: string;
  deadLetterQueueArn: string;
  /** Defaults to the process-wide traced client. */
  client?: SchedulerClient;
}

export class EventBridgeDetectionScheduler implements DetectionScheduler {
  private readonly client: () => SchedulerClient;

  constructor(private readonly options: EventBridgeDetectionSchedulerOptions) {
    this.client = options.client ? () => options.client as SchedulerClient : schedulerClient;
  }

  async upsert(projectId: string, schedule: Schedule): Promise<void> {
    if (!schedule.enabled) return this.delete(projectId);
    const request = this.scheduleRequest(projectId, schedule);
    try {
      try {
        await this.client().send(new CreateScheduleCommand(request));
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
        // The project has a schedule already: UpdateSchedule replaces every field with these.
        try {
          await this.client().send(new UpdateScheduleCommand(request));
        } catch (updateError) {
          // Deleted between the two calls (a concurrent disable): create it after all.
          if (!(updateError instanceof ResourceNotFoundException)) throw updateError;
          await this.client().send(new CreateScheduleCommand(request));
        }
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      // The service's refusals of the request itself are permanent; throttling and 5xx are not ours to name.
      if (name === 'ValidationException' || name === 'ServiceQuotaExceededException') {
        const reason = (error as { Message?: string }).Message ?? (error as Error).message;
        throw new DetectionScheduleError(projectId, `${name}: ${reason}`, { cause: error });
      }
      throw error;
    }
    logger.info('Detection schedule saved', { projectId, expression: schedule.cron, timezone: schedule.timezone });
  }

  async delete(projectId: string): Promise<void> {
    try {
      await this.client().send(new DeleteScheduleCommand({ GroupName: this.options.groupName, Name: detectionScheduleName(projectId) }));
      logger.info('Detection schedule removed', { projectId });
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  private scheduleRequest(projectId: string, schedule: Schedule): CreateScheduleCommandInput {
    const input: DetectionRequest = { projectId, trigger: 'schedule' };
    return {
      GroupName: this.options.groupName,
      Name: detectionScheduleName(projectId),
      Description: `Cahoots work detection for project ${projectId}`,
      ScheduleExpression: schedule.cron,
      ScheduleExpressionTimezone: schedule.timezone,
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: DETECTION_FLEXIBLE_WINDOW_MINUTES },
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      Target: {
        // The templated Step Functions target: StartExecution with this input, an execution name of its own.
        Arn: this.options.detectWorkStateMachineArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(input),
        RetryPolicy: { ...DETECTION_RETRY_POLICY },
        DeadLetterConfig: { Arn: this.options.deadLetterQueueArn },
      },
    };
  }
}

/** The schedules port (SCHEDULE_GROUP_NAME and the three variables beside it); the stand-in names the first one missing. */
export const cellPort: CellPortFactory<'schedules'> = ({ config }) => {
  const { scheduleGroupName, detectWorkStateMachineArn, schedulerRoleArn, scheduleDeadLetterQueueArn } = config;
  if (scheduleGroupName && detectWorkStateMachineArn && schedulerRoleArn && scheduleDeadLetterQueueArn) {
    return new EventBridgeDetectionScheduler({
      groupName: scheduleGroupName,
      detectWorkStateMachineArn,
      roleArn: schedulerRoleArn,
      deadLetterQueueArn: scheduleDeadLetterQueueArn,
    });
  }
  const missing = (['scheduleGroupName', 'detectWorkStateMachineArn', 'schedulerRoleArn', 'scheduleDeadLetterQueueArn'] as const).find(
    (field) => !config[field],
  )!;
  return unconfigured('schedules', AWS_PORTS_ENV[missing]);
};
