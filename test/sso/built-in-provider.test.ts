// The scenarios of the LemonLDAP::NG suites against the built-in IdP (oidc-provider), set up the
// same way: the demo users, email and groups from userinfo only. Sign-out: the -sign-out file.
import { clientAuthScenarios, policyScenarios } from '../helpers/provider-scenarios.js';

policyScenarios('built-in', 'built-in IdP');
clientAuthScenarios('built-in', 'built-in IdP');
