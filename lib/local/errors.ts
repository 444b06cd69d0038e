// Base of the local runtime's own errors (its stand-ins for AWS services refusing a call, and bad
// local setup). They are permanent: the call or the setup must change. A Lambda step that fails
// with one reports `Local.<code>` unless the class names the service's own error.
import { CahootsError } from '../domain/errors';

export abstract class LocalRuntimeError extends CahootsError {
  get stepFunctionsError(): string {
    return `Local.${this.code}`;
  }
  readonly permanent: boolean = true;
}
