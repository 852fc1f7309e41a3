import { readForwardedClaims } from '@tokenaccess/next';
import type { NextRequest } from 'next/server';

// No token rule covers this path; it shows that client-sent claim headers never arrive.
export function GET(request: NextRequest): Response {
  return Response.json({ claims: readForwardedClaims(request.headers), subject: request.headers.get('x-tokenaccess-subject') });
}
