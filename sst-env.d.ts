/* The linked resources the wiring reads through SST's `Resource` (what `sst dev` would generate). */
import "sst/resource";

declare module "sst/resource" {
  export interface Resource {
    AdminApiKey: { value: string; type: "sst.sst.Secret" };
  }
}
