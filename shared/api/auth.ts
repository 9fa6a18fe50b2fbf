import type { ApiConfig } from '../config';
import { ApiError } from './errors';

/**
 * Who may call a route: `public` needs no token, `user` any valid token of the stage's JWT
 * authorizer, `admin` a token whose claims make the caller an operator.
 */
export type RouteAccess = 'public' | 'user' | 'admin';

/**
 * Who is calling, from what API Gateway's JWT authorizer verified (the handler never sees an
 * unverified token: the authorizer refuses those before the function runs). Locally there is no
 * authorizer and every caller is an operator: the local server listens on 127.0.0.1 only.
 */
export type Caller = { kind: 'anonymous' } | { kind: 'user' | 'admin'; subject: string };

type Claims = Record<string, string | number | boolean | string[] | undefined>;

/**
 * API Gateway hands array claims to the function flattened to a string (`[admin editors]`);
 * other issuers send a JSON array or a space-separated list. All three read alike here.
 */
export function claimValues(claim: Claims[string]): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  const text = claim.trim().replace(/^\[(.*)\]$/s, '$1');
  return text.split(/[\s,]+/).filter((value) => value !== '');
}

export function callerFromClaims(claims: Claims | undefined, admin: ApiConfig['admin']): Caller {
  if (!claims) return { kind: 'anonymous' };
  const subject = String(claims.sub ?? claims.client_id ?? claims.username ?? 'unknown');
  const isAdmin = claimValues(claims.scope).includes(admin.scope) || claimValues(claims['cognito:groups']).includes(admin.group);
  return { kind: isAdmin ? 'admin' : 'user', subject };
}

export function callerOf(authorizerClaims: Claims | undefined, config: Pick<ApiConfig, 'auth' | 'admin'>): Caller {
  if (config.auth === 'local') return { kind: 'admin', subject: 'local' };
  return callerFromClaims(authorizerClaims, config.admin);
}

/** Throws the 401 or 403 a route's access rule gives this caller. */
export function authorize(access: RouteAccess, caller: Caller): void {
  if (access === 'public') return;
  if (caller.kind === 'anonymous') throw new ApiError(401, 'unauthorized', 'a bearer token is required (Authorization: Bearer <JWT>)');
  if (access === 'admin' && caller.kind !== 'admin') throw new ApiError(403, 'forbidden', 'this route is for operators only');
}
