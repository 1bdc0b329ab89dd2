import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { InvalidInputError } from '../../domain/errors.js';
import { parseStrictJson } from '../../domain/strict-json.js';
import { BodyTooLargeError, declaredBodyProblem, readBoundedText } from './route-bounds.js';

/** Deepest nesting accepted in a request body or a `variables`/`extensions` parameter. */
export const MAX_JSON_DEPTH = 100;

const JSON_TYPES = ['application/json', 'application/graphql+json'];

const mediaType = (request: Request): string => (request.headers.get('content-type') ?? '').split(/[;,]/)[0]!.trim().toLowerCase();

function badRequest(error: unknown): never {
  if (error instanceof InvalidInputError) {
    throw createGraphQLError(error.message, { extensions: { code: error.code, field: error.field, http: { status: 400 } } });
  }
  throw createGraphQLError('The request body is not valid JSON.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

function strict(text: string): unknown {
  try {
    return parseStrictJson(text, MAX_JSON_DEPTH);
  } catch (error) {
    return badRequest(error);
  }
}

/**
 * Reads GraphQL requests so that every input has one meaning: JSON bodies and GET parameters
 * go through {@link parseStrictJson} (duplicate member names, integers beyond ±(2^53−1) and deep
 * nesting are refused with INVALID_INPUT naming the path). POST bodies of any other type (forms,
 * multipart, text: what a cross-site page can send without a preflight) are refused with 415.
 *
 * The body limit (`maxBodyBytes`, 413) is applied here rather than by yoga's own, which pipes
 * every body through a web TransformStream: a tenth of the server's CPU for a small request. A
 * declared length over the limit (or not one integer: 400) is refused before anything is read;
 * a body with a declared length within it is read at once (Node's parser delivers no more than
 * it declares), and a chunked one is counted as it is read, refused once past the limit.
 */
export function useStrictJsonRequests(maxBodyBytes: number): Plugin {
  return {
    onRequestParse({ request, setRequestParser, fetchAPI }) {
      if (request.method === 'GET') {
        setRequestParser((req) => {
          const params = new fetchAPI.URLSearchParams(req.url.slice(req.url.indexOf('?') + 1));
          const variables = params.get('variables');
          const extensions = params.get('extensions');
          return {
            operationName: params.get('operationName') || undefined,
            query: params.get('query') || undefined,
            variables: variables ? (strict(variables) as Record<string, unknown>) : undefined,
            extensions: extensions ? (strict(extensions) as Record<string, unknown>) : undefined,
          };
        });
      } else if (request.method === 'POST') {
        if (!JSON_TYPES.includes(mediaType(request))) {
          setRequestParser(
            () =>
              new fetchAPI.Response(JSON.stringify({ errors: [{ message: 'GraphQL requests must be sent as application/json.' }] }), {
                status: 415,
                headers: { 'content-type': 'application/json' },
              }),
          );
          return;
        }
        const declared = request.headers.get('content-length');
        const problem = declaredBodyProblem(declared, maxBodyBytes);
        if (problem?.status === 413) throw bodyTooLarge();
        if (problem) throw createGraphQLError('Content-Length header is invalid.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        setRequestParser(async (req) => {
          const text = declared !== null ? await req.text() : await readBoundedText(req, maxBodyBytes).catch(refuseOversized);
          const body = strict(text);
          if (typeof body !== 'object' || body === null || Array.isArray(body)) {
            throw createGraphQLError('The request body must be a JSON object.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          return body;
        });
      }
    },
  };
}

const bodyTooLarge = (): Error =>
  createGraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });

function refuseOversized(error: unknown): never {
  throw error instanceof BodyTooLargeError ? bodyTooLarge() : error;
}
