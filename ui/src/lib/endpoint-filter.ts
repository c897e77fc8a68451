// Endpoints grouped by area, kept when every word typed is in their name or area (the chosen
// ones always stay, so they can be unticked): the one rule behind every endpoint picker.

import type { Endpoint, EndpointId } from "./generated/protocol";

export function endpointsByArea(endpoints: Endpoint[], filter: string, chosen: EndpointId[]): [string, Endpoint[]][] {
  const areas = new Map<string, Endpoint[]>();
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  for (const e of endpoints) {
    const text = `${e.name} ${e.area}`.toLowerCase();
    if (words.length > 0 && !chosen.includes(e.id) && !words.every((w) => text.includes(w))) continue;
    const list = areas.get(e.area);
    if (list) list.push(e);
    else areas.set(e.area, [e]);
  }
  return [...areas];
}
