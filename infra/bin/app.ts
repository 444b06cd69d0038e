// Entry point of the CDK CLI (cdk.json "app"): `cdk synth|deploy -c customer=<id>` builds that
// customer's cell; without `-c customer` every customer in infra/customers/ is built.
import { buildApp } from '../app';

buildApp().app.synth();
