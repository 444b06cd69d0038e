// Keeps a long conversation inside the model's window without spoiling the prompt cache: when a
// request outgrows the window, old tool results (and long inputs of old tool calls, such as
// whole-file writes) are replaced by a short note, oldest first, in one large step down to a
// low-water mark. The turns after a step append to an unchanged prefix, so they hit the cache;
// eliding one message per turn would rewrite early messages, and miss the cache, every turn.
import { estimateTokens, type Message, type ToolSpec } from '../models/index';

export const ELIDED_RESULT = '[elided to fit the context window: an older tool result; run the tool again if you still need it]';

/** A step elides until the request is at most this share of the window. */
export const ELISION_LOW_WATER = 0.6;

/**
 * Elides in place when the request is over `maxTokens`; returns whether anything changed. The
 * first message (context and task) and the latest exchange are never touched.
 */
export function elideOldToolResults(messages: Message[], system: string, tools: readonly ToolSpec[], maxTokens: number): boolean {
  const size = () => estimateTokens({ system, messages, tools: [...tools], maxTokens: 0 });
  if (size() <= maxTokens) return false;
  const target = Math.floor(maxTokens * ELISION_LOW_WATER);
  let changed = false;
  for (let i = 1; i < messages.length - 2; i++) {
    const message = messages[i]!;
    const content = message.content.map((block) => {
      if (block.type === 'toolResult' && block.content.length > ELIDED_RESULT.length) return { ...block, content: ELIDED_RESULT };
      if (block.type === 'toolUse') {
        const input = Object.fromEntries(
          Object.entries(block.input).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `[elided ${v.length} characters]` : v]),
        );
        return { ...block, input };
      }
      return block;
    });
    if (JSON.stringify(content) !== JSON.stringify(message.content)) {
      message.content = content;
      changed = true;
    }
    if (size() <= target) break;
  }
  return changed;
}
