import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import type { NotificationTopic } from "@backing/engine";

/**
 * The `MarginNotifications` SNS topic: PublishBatch, 10 messages per call, failed entries sent
 * again. Attributes are strings so subscribers' filter policies can match on them.
 */
export function snsNotificationTopic(topicArn: string, client = new SNSClient({})): NotificationTopic {
  return {
    async publish(messages) {
      for (let i = 0; i < messages.length; i += 10) {
        let entries = messages.slice(i, i + 10).map((message, k) => ({
          Id: String(k),
          Message: message.body,
          MessageAttributes: Object.fromEntries(
            Object.entries({ ...message.attributes, id: message.id }).map(([name, value]) => [
              name,
              { DataType: "String", StringValue: value },
            ]),
          ),
        }));
        for (let attempt = 0; entries.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`SNS refused ${entries.length} notifications after 5 attempts`);
          const response = await client.send(
            new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }),
          );
          const failed = new Set((response.Failed ?? []).map((f) => f.Id));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    },
  };
}
