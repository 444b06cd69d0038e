// How a cell function's ports are assembled: every port of the Ports interface is a property,
// each declared one built from its adapter's factory, each undeclared one failing on use.
import { describe, expect, it } from 'vitest';
import { ALL_CELL_PORTS, assembleCellPorts, parseAwsPortsConfig, PortNotDeclaredError, SfnDetectionStarter } from '../../lib/ports/aws/index';
import { CloudWatchAlarmReader } from '../../lib/ports/aws/alarm-reader';

const config = parseAwsPortsConfig({ detectWorkStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:cahoots-acme-detect-work' });

describe('assembleCellPorts', () => {
  it('builds every declared port, including detection and alarms, and no other', () => {
    const ports = assembleCellPorts({ detection: ALL_CELL_PORTS.detection, alarms: ALL_CELL_PORTS.alarms }, config, '/tmp');
    expect(ports.detection).toBeInstanceOf(SfnDetectionStarter);
    expect(ports.alarms).toBeInstanceOf(CloudWatchAlarmReader);
    expect(() => ports.pipeline.startGoal({ goalId: 'g', projectId: 'p' })).toThrow(PortNotDeclaredError);
  });

  it('has a property for every port of the AWS adapters', () => {
    const ports = assembleCellPorts({}, config, '/tmp');
    expect(Object.keys(ports).sort()).toEqual(Object.keys(ALL_CELL_PORTS).sort());
  });
});
