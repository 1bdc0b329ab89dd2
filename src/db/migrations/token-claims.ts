/**
 * The claims a stored decision token carried beyond its approval's own fields (`kid` and `iat`),
 * read from the token without verifying it: the migration that stops storing tokens keeps what
 * re-creating them needs. Null for a value that is no compact JWS.
 */
export function storedTokenClaims(token: unknown): { kid: string; issuedAtSeconds: number } | null {
  if (typeof token !== 'string') return null;
  const [header, payload] = token.split('.');
  try {
    const { kid } = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    const { iat } = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { iat?: unknown };
    return typeof kid === 'string' && typeof iat === 'number' ? { kid, issuedAtSeconds: iat } : null;
  } catch {
    return null;
  }
}
