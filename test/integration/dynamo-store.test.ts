import { afterAll } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";
import { storeContract } from "../helpers/store-contract.ts";

const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((drop) => drop()));
});

storeContract("the DynamoDB store", async () => {
  const { store, drop } = await freshStore();
  drops.push(drop);
  return store;
});
