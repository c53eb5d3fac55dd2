// The edge against an OpenID provider written by someone else: LemonLDAP::NG 2.16 from Debian, its
// configuration generated in a temp dir, served by its own nginx on 127.0.0.1, with its default
// claim settings (email and groups from userinfo). Policies here; sign-out and client
// authentication in lemonldap-sign-out.test.ts and lemonldap-client-auth.test.ts (each file starts its own provider).
import { policyScenarios } from '../helpers/provider-scenarios.js';

policyScenarios('lemonldap', 'LemonLDAP::NG from Debian');
