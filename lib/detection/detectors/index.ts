// The detectors by name. A detector the project enables but that is not built yet reports itself
// as skipped rather than failing the run.
import type { KnownDetector } from '../../domain/finding';
import type { Detector } from '../types';
import { alarmsDetector } from './alarms';
import { analystDetector } from './analyst';
import { failingTestsDetector } from './failing-tests';
import { issuesDetector } from './issues';
import { lintDetector } from './lint';
import { outdatedDependenciesDetector } from './outdated-dependencies';
import { todoDetector } from './todo';
import { typeErrorsDetector } from './type-errors';
import { vulnerableDependenciesDetector } from './vulnerable-dependencies';

export const DETECTORS: Partial<Record<KnownDetector, Detector>> = {
  todo: todoDetector,
  'type-errors': typeErrorsDetector,
  'failing-tests': failingTestsDetector,
  'vulnerable-dependency': vulnerableDependenciesDetector,
  issue: issuesDetector,
  alarm: alarmsDetector,
  lint: lintDetector,
  'outdated-dependency': outdatedDependenciesDetector,
  analyst: analystDetector,
};

export function detectorFor(name: KnownDetector): Detector | undefined {
  return DETECTORS[name];
}
