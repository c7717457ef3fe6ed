import { Readable } from "node:stream";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { ReportStore } from "@backing/engine";

const CONTENT_TYPES: Record<string, string> = {
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
};

/**
 * The AWS report store: `s3://<bucket>/<kind>/<id>.json` (or `<kind>/<id>/<name>`), uploaded as a
 * multipart stream so a report over a large book never sits in memory whole.
 */
export function s3ReportStore(bucket: string, client = new S3Client({})): ReportStore {
  const keyOf = (kind: string, id: string, name?: string) =>
    name ? `${kind}/${id}/${name}` : `${kind}/${id}.json`;
  return {
    async write(kind, id, chunks, name) {
      const key = keyOf(kind, id, name);
      const extension = key.slice(key.lastIndexOf(".") + 1);
      await new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: Readable.from(chunks),
          ContentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
        },
      }).done();
      return `s3://${bucket}/${key}`;
    },
    async read(kind, id, name) {
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: keyOf(kind, id, name) }),
        );
        return (await response.Body?.transformToString("utf8")) ?? null;
      } catch (error) {
        if (error instanceof NoSuchKey) return null;
        throw error;
      }
    },
  };
}
