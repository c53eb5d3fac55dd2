// The edge against LemonLDAP::NG 2.16 from Debian: client_secret_basic with a plain client id, and
// with "airlock-edge" the provider's own invalid_client (it does not decode the id Basic
// form-encodes, RFC 6749 §2.3.1). client_secret_post with "airlock-edge": the other two files.
import { clientAuthScenarios } from '../helpers/provider-scenarios.js';

clientAuthScenarios('lemonldap', 'LemonLDAP::NG from Debian');
