// The admin token the operator gave in this tab (sessionStorage), shared by the dead letters and the lookup.

/** Where the token is kept in sessionStorage. */
export const TOKEN_KEY = 'webhook-relay-admin-token';

/** Headers that send the token, when the operator gave one. */
export function adminHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}
