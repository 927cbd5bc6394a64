/**
 * Bearer-token check for write and admin routes. Both sides are hashed before a constant-time
 * compare (equal lengths, no early exit), and no message ever contains the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type AuthResult = { ok: true } | { ok: false; message: string };

export function bearerChecker(token: string | undefined): (header: string | undefined) => AuthResult {
  if (token === undefined) return () => ({ ok: true });
  const want = createHash("sha256").update(token).digest();
  return (header) => {
    if (header === undefined || header === "")
      return {
        ok: false,
        message: "missing Authorization header: this route needs `Authorization: Bearer <token>`",
      };
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) return { ok: false, message: "Authorization header must be `Bearer <token>`" };
    const got = createHash("sha256").update(m[1].trim()).digest();
    return timingSafeEqual(got, want) ? { ok: true } : { ok: false, message: "invalid bearer token" };
  };
}
