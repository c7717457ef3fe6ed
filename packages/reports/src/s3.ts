import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { ReportStore } from "@backing/engine";

/**
 * The AWS report store: `s3://<bucket>/<kind>/<id>.json`, uploaded as a multipart stream so a
 * report over a large book never sits in memory whole.
 */
export function s3ReportStore(bucket: string, client = new S3Client({})): ReportStore {
  return {
    async write(kind, id, chunks) {
      const key = `${kind}/${id}.json`;
      await new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: Readable.from(chunks), ContentType: "application/json" },
      }).done();
      return `s3://${bucket}/${key}`;
    },
  };
}
