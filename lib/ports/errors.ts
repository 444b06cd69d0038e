// Base of the ports' errors: an adapter refusing a call the way its AWS service would, or a port
// that is not configured. Permanent unless a class says otherwise; a Lambda step that fails with
// one reports `Port.<code>` unless the class names the service's own error.
import { CahootsError } from '../domain/errors';

export abstract class PortError extends CahootsError {
  get stepFunctionsError(): string {
    return `Port.${this.code}`;
  }
  readonly permanent: boolean = true;
}
