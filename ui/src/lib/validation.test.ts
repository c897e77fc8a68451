import { describe, expect, test } from "vitest";
import { fieldOfMessage, validateCaFile, validateServerUrl, validateSetpoint } from "./validation";

describe("validateServerUrl", () => {
  test.each(["", "   ", "wss://plant.example/ws", "wss://plant.example:8443", "wss://10.0.0.5:9000/brew/ws", "ws://localhost:9000/ws", "ws://127.0.0.1", "ws://127.1.2.3:80/ws", "ws://[::1]:9000/ws", "WSS://Plant.Example/ws"])(
    "accepts %j",
    (url) => expect(validateServerUrl(url)).toBeNull(),
  );

  test.each([
    ["plant.example", /Start the server URL with wss:\/\//],
    ["https://plant.example/ws", /not http:\/\/ or https:\/\//],
    ["mqtt://plant.example", /must start with wss:\/\//],
    ["wss:plant.example", /two slashes/],
    ["wss://a b/ws", /spaces/],
    ["wss://user@plant.example/ws", /Credentials/],
    ["wss://user:pw@plant.example/ws", /Credentials/],
    ["wss://plant.example/ws?x=1", /query string/],
    ["wss://plant.example/ws#top", /fragment/],
    ["ws://plant.example/ws", /unencrypted/],
    ["ws://192.168.1.10:9000/ws", /unencrypted/],
    ["wss://plant.example:99999/ws", /not a valid URL/],
  ])("refuses %j", (url, message) => expect(validateServerUrl(url)).toMatch(message));
});

describe("validateCaFile", () => {
  test.each(["", "/etc/ssl/site.pem", "C:\\certs\\site.pem", "\\\\server\\share\\ca.pem"])("accepts %j", (p) => expect(validateCaFile(p)).toBeNull());
  test.each(["site.pem", "./site.pem", "~/site.pem"])("refuses %j", (p) => expect(validateCaFile(p)).toMatch(/full path/));
});

describe("fieldOfMessage", () => {
  test("a Rust invalid_input message names its field", () => {
    expect(fieldOfMessage("serverUrl: bad URL")).toEqual({ field: "serverUrl", text: "bad URL" });
    expect(fieldOfMessage("siteCaFile: /x is not a readable file")).toEqual({ field: "siteCaFile", text: "/x is not a readable file" });
    expect(fieldOfMessage("disk full")).toBeNull();
  });
});

describe("validateSetpoint", () => {
  const limits = { min: 28, max: 80 };
  test("inside the limits", () => expect(validateSetpoint(" 65.5 ", limits, "°F")).toEqual({ ok: true, value: 65.5 }));
  test("the limits themselves", () => {
    expect(validateSetpoint("28", limits)).toEqual({ ok: true, value: 28 });
    expect(validateSetpoint("80", limits)).toEqual({ ok: true, value: 80 });
  });
  test.each([
    ["", /Enter a value between 28 and 80 °F/],
    ["abc", /"abc" is not a number/],
    ["27.9", /below the minimum of 28 °F/],
    ["81", /above the maximum of 80 °F/],
  ])("%j is refused", (text, message) => {
    const r = validateSetpoint(text, limits, "°F");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
  test("no limits: any number", () => expect(validateSetpoint("-1e3", undefined)).toEqual({ ok: true, value: -1000 }));
});
