// The sign-out scenarios of the LemonLDAP::NG suites against the built-in IdP (oidc-provider):
// its end_session_endpoint asks "sign out?", the rig answers yes.
import { signOutScenarios } from '../helpers/provider-scenarios.js';

signOutScenarios('built-in', 'built-in IdP');
