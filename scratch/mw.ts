import { connect } from "@backing/dynamo";
const { client } = connect({ endpoint: "http://127.0.0.1:1" });
console.log(client.middlewareStack.identify().filter((n) => /logger/i.test(n)));
