import { memoryStore } from "@backing/engine/testing";
import { storeContract } from "../helpers/store-contract.ts";

storeContract("the in-memory store", async () => memoryStore());
