// The SDK as the dashboard imports it (`./sdk/index.js`, served from sdk/typescript/dist/).
export * from "../../../sdk/typescript/dist/index.js";
