import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { NotificationTopic, TopicMessage } from "@backing/engine";

/**
 * The local stand-in for the `MarginNotifications` SNS topic: one JSON line per message (id,
 * attributes, body), appended to a file an operator can tail or filter with `jq`.
 */
export function fileNotificationTopic(
  path: string,
): NotificationTopic & { published: () => ReadonlySet<string> } {
  const ids = new Set<string>();
  let ready: Promise<unknown> | undefined;
  return {
    async publish(messages: readonly TopicMessage[]) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, messages.map((m) => `${JSON.stringify(m)}\n`).join(""));
      for (const message of messages) ids.add(message.id);
    },
    published: () => ids,
  };
}
