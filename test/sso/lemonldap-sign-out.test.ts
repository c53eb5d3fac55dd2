// The edge against LemonLDAP::NG 2.16 from Debian: sign-out ending the provider's session too,
// client_secret_post and client_secret_basic, and the client id "airlock-edge".
import { signOutScenarios } from '../helpers/provider-scenarios.js';

signOutScenarios('lemonldap', 'LemonLDAP::NG from Debian');
