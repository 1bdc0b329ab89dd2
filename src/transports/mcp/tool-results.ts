import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CountersignClientError, RefusedError, TransportError } from '../../client/index.js';

/** A successful tool result: the structured content, and the same as JSON text for clients that only read text. */
export function toolResult(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/**
 * A failed tool result (`isError: true`): the model sees the failure and can act on it, and the
 * structured content carries a stable `code` to match on instead of the message.
 */
export function toolError(code: string, message: string, details: Record<string, unknown> = {}): CallToolResult {
  const structured = { code, message, ...details };
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured, isError: true };
}

/** What the SDK threw, as a failed tool result carrying the gate's stable code and the error's fields. */
export function errorResult(error: unknown): CallToolResult {
  if (error instanceof RefusedError) return toolError(error.code, error.message, { ...error.details });
  if (error instanceof TransportError) return toolError(error.code, error.message, error.status === null ? {} : { httpStatus: error.status });
  if (error instanceof CountersignClientError) return toolError(error.code, error.message);
  throw error;
}

/**
 * The JSON Schema of a failed result's structured content. Clients validate structured content
 * against a tool's output schema even when `isError` is set, so each output schema admits it.
 */
export const ERROR_OUTPUT_SCHEMA = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'A stable error code, e.g. NOT_FOUND, FORBIDDEN, CONTEXT_MISMATCH, TOKEN_REPLAYED, TRANSPORT.' },
    message: { type: 'string' },
  },
  required: ['code', 'message'],
} as const;

/** An output schema for a tool's structured content: its own shape, or the error shape. */
export function outputSchema(success: Record<string, unknown>): { type: 'object'; [key: string]: unknown } {
  return { type: 'object', anyOf: [{ type: 'object', ...success }, ERROR_OUTPUT_SCHEMA] };
}
