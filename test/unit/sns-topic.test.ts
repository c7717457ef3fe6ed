import type { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import type { TopicMessage } from "@backing/engine";
import { snsNotificationTopic } from "@backing/queue";
import { describe, expect, it } from "vitest";

// The SNS adapter's request shaping, against a stand-in client that records each PublishBatch
// (SNS is not reachable here; the DynamoDB adapters are tested against DynamoDB Local instead).
function recordingClient(failFirst: Set<string>) {
  const calls: PublishBatchCommand["input"][] = [];
  const client = {
    async send(command: PublishBatchCommand) {
      calls.push(command.input);
      const entries = command.input.PublishBatchRequestEntries ?? [];
      const failed = entries.filter((e) => {
        const id = e.MessageAttributes?.id?.StringValue as string;
        if (!failFirst.has(id)) return false;
        failFirst.delete(id);
        return true;
      });
      return { Failed: failed.map((e) => ({ Id: e.Id, Code: "Throttled", SenderFault: false })) };
    },
  };
  return { calls, client: client as unknown as SNSClient };
}

const message = (i: number): TopicMessage => ({
  id: `ntf-${i}`,
  attributes: { venue: i % 2 ? "venue-a" : "venue-b", type: "margin.call", status: "MARGIN_CALL" },
  body: `{"n":${i}}`,
});

describe("snsNotificationTopic", () => {
  it("publishes in batches of 10 with string attributes subscribers can filter on", async () => {
    const { calls, client } = recordingClient(new Set());
    await snsNotificationTopic("arn:aws:sns:eu-west-1:1:MarginNotifications", client).publish(
      Array.from({ length: 23 }, (_, i) => message(i)),
    );
    expect(calls.map((c) => c.PublishBatchRequestEntries?.length)).toEqual([10, 10, 3]);
    const first = calls[0]?.PublishBatchRequestEntries?.[1];
    expect(calls[0]?.TopicArn).toBe("arn:aws:sns:eu-west-1:1:MarginNotifications");
    expect(first?.Message).toBe('{"n":1}');
    expect(first?.MessageAttributes).toEqual({
      venue: { DataType: "String", StringValue: "venue-a" },
      type: { DataType: "String", StringValue: "margin.call" },
      status: { DataType: "String", StringValue: "MARGIN_CALL" },
      id: { DataType: "String", StringValue: "ntf-1" },
    });
  });

  it("sends the entries SNS refused again, and only those", async () => {
    const { calls, client } = recordingClient(new Set(["ntf-2", "ntf-5"]));
    await snsNotificationTopic("arn:t", client).publish(Array.from({ length: 6 }, (_, i) => message(i)));
    expect(calls).toHaveLength(2);
    expect(calls[1]?.PublishBatchRequestEntries?.map((e) => e.MessageAttributes?.id?.StringValue)).toEqual([
      "ntf-2",
      "ntf-5",
    ]);
  });

  it("gives up with an error after 5 refusals", async () => {
    const always = {
      send: async (c: PublishBatchCommand) => ({
        Failed: c.input.PublishBatchRequestEntries?.map((e) => ({ Id: e.Id })),
      }),
    };
    await expect(
      snsNotificationTopic("arn:t", always as unknown as SNSClient).publish([message(1)]),
    ).rejects.toThrow(/SNS refused 1 notifications after 5 attempts/);
  });
});
