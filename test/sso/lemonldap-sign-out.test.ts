// The edge against LemonLDAP::NG 2.16 from Debian: sign-out ending the provider's session too,
// and not when turned off. (One file per scenario group: each must finish within the runner's
// 180 s on a busy machine; each starts its own provider.)
import { signOutScenarios } from '../helpers/provider-scenarios.js';

signOutScenarios('lemonldap', 'LemonLDAP::NG from Debian');
