// The scenarios of the LemonLDAP::NG suites against the built-in IdP (oidc-provider), set up the
// same way: the demo users, email and groups from userinfo only.
import { policyScenarios, signOutScenarios } from '../helpers/provider-scenarios.js';

policyScenarios('built-in', 'built-in IdP');
signOutScenarios('built-in', 'built-in IdP');
