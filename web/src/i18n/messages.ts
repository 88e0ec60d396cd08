import type { components } from "../api/schema";

export type ProblemCode = components["schemas"]["Problem"]["code"];
export type Category = components["schemas"]["EventCategory"];

/** Every sentence of the app, in one language. A problem `code` the API adds breaks the build
 *  until each language has its sentence. */
export interface Messages {
  brand: string;
  language: string;
  events: string;
  allCategories: string;
  category: string;
  categories: Record<Category, string>;
  loadMore: string;
  noEvents: string;
  loading: string;
  sessions: string;
  noSessions: string;
  onSale: string;
  notOnSale: string;
  saleOpens: (when: string) => string;
  chooseSeats: string;
  seatMap: string;
  seatMapHelp: string;
  zoomIn: string;
  zoomOut: string;
  zoomFit: string;
  free: string;
  held: string;
  sold: string;
  selected: string;
  seatTip: (row: string, number: number, price: string) => string;
  seatName: (sector: string, row: string, number: number) => string;
  available: (n: number) => string;
  soldOut: string;
  quantity: string;
  places: string;
  yourChoice: string;
  nothingChosen: string;
  limitReached: (n: number) => string;
  total: string;
  remove: string;
  updatedAt: (when: string) => string;
  backToEvents: string;
  notFound: string;
  tryAgain: string;
  problems: Record<ProblemCode, string>;
  network: string;
}
