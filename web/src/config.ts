// Read at start from /config.json, so one build runs locally and in every stage.

export interface Config {
  /** The HTTP API's base URL. */
  api_url: string;
  /** The OpenID provider fans sign in with (its discovery document is under it). */
  issuer: string;
  /** The public app client's id (the API's token audience). */
  client_id: string;
  /** The simulated payment provider's test cards are shown (never in production). */
  test_cards?: boolean;
}

export async function loadConfig(): Promise<Config> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`/config.json: ${response.status}`);
  return (await response.json()) as Config;
}
