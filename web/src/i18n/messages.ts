import type { components } from "../api/schema";
import type { Issue } from "../console/draft";

export type ProblemCode = components["schemas"]["Problem"]["code"];
export type Category = components["schemas"]["EventCategory"];
export type ReservationStatus = components["schemas"]["ReservationStatus"];

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
  signIn: string;
  signOut: string;
  signingIn: string;
  signInFailed: string;
  signedInAs: (name: string) => string;
  myReservations: string;
  hold: string;
  holding: string;
  signInToHold: string;
  reservation: string;
  status: Record<ReservationStatus, string>;
  heldFor: (clock: string) => string;
  holdExpired: string;
  startAgain: string;
  addOns: string;
  inStock: (n: number) => string;
  saveAddOns: string;
  addOnsSaved: string;
  payment: string;
  card: string;
  pix: string;
  boleto: string;
  cardNumber: string;
  pay: (amount: string) => string;
  paying: string;
  testCards: string;
  testCardList: string[];
  pixCode: string;
  pixQr: string;
  boletoLine: string;
  copy: string;
  copied: string;
  waitingPayment: string;
  confirmed: string;
  tickets: string;
  ticketFor: (what: string) => string;
  ticketCode: string;
  invoice: string;
  invoiceNumber: (n: string) => string;
  cancel: string;
  cancelled: string;
  noReservations: string;
  open: string;
  place: (sector: string) => string;
  declined: (reason: string) => string;
  signInRequired: string;
  queueTitle: string;
  queueHelp: string;
  sector: string;
  joinQueue: string;
  signInToQueue: string;
  joining: string;
  requestTitle: string;
  requestStatus: Record<"QUEUED" | "FULFILLED" | "REJECTED", string>;
  queueOnly: string;
  placeInLine: (place: number) => string;
  estimatedWait: (seconds: number) => string;
  queuedFor: (quantity: number, sector: string) => string;
  rejectReason: Record<
    "SOLD_OUT" | "NOT_ENOUGH_LEFT" | "LIMIT_EXCEEDED" | "SALE_CLOSED" | "INVALID" | "FAILED",
    string
  >;
  continueToPay: string;
  problems: Record<ProblemCode, string>;
  network: string;
  console: ConsoleMessages;
  door: DoorMessages;
}

/** The organiser console's sentences. */
export interface ConsoleMessages {
  title: string;
  refused: string;
  eventName: string;
  venue: string;
  description: string;
  newEvent: string;
  createEvent: string;
  editEvent: string;
  saveEvent: string;
  saved: string;
  issue: (issue: Issue) => string;
  asFansSeeIt: string;
  onSale: string;
  links: string;
  newSession: string;
  noProducts: string;
  productName: string;
  price: string;
  stock: string;
  uncounted: string;
  productCategories: Record<components["schemas"]["ProductCategory"], string>;
  newProduct: string;
  priceReais: string;
  stockHelp: string;
  addProduct: string;
  backToEvent: string;
  whenAndLimits: string;
  startsAt: string;
  saleStartsAt: string;
  saleEndsAt: string;
  maxPerCustomer: string;
  saleMode: string;
  saleModeDirect: string;
  saleModeQueue: string;
  sectors: string;
  sectorN: (n: number) => string;
  numberedSeats: (n: number) => string;
  standingPlaces: (n: number) => string;
  sectorName: (n: number) => string;
  sectorCode: (n: number) => string;
  sectorPrice: (n: number) => string;
  rows: (n: number) => string;
  seatsPerRow: (n: number) => string;
  gaps: (n: number) => string;
  capacity: (n: number) => string;
  removeSector: (n: number) => string;
  addNumbered: string;
  addStanding: string;
  preview: string;
  previewHelp: (seats: number) => string;
  noPreview: string;
  fixFields: string;
  createSession: string;
  sales: string;
  salesTitle: string;
  updatedAt: (when: string) => string;
  counts: Record<"sold" | "held" | "available" | "expired" | "cancelled" | "checked_in", string>;
  revenue: string;
  bySector: string;
  capacityHeading: string;
  occupation: string;
  addOnsSold: string;
  unitsSold: string;
  barLabel: (sector: string, sold: number, held: number, available: number) => string;
  soldOverTime: (minutes: number) => string;
  ticketsPerMinute: string;
  chartLabel: (tickets: number, minutes: number) => string;
  expiringTitle: string;
  expiringTotal: (tickets: number) => string;
  expiringAt: (minute: string, tickets: number) => string;
  lapsed: (tickets: number) => string;
  queueTitle: string;
  queueWaiting: string;
  queueInFlight: string;
  oldestWait: string;
  nobodyWaiting: string;
  seconds: (n: number) => string;
  queueScope: string;
  lineUnavailable: string;
  exportsTitle: string;
  doorConflicts: string;
  doorConflict: (
    ticket: string,
    gate: string,
    at: string,
    again: string,
    againAt: string,
  ) => string;
  exportAttendees: string;
  exportSectors: string;
  exporting: string;
  desk: string;
  deskTitle: string;
  lookupById: string;
  lookupByCustomer: string;
  findById: string;
  findByCustomer: string;
  noReservations: string;
  moreReservations: string;
  reservationHeading: (id: string) => string;
  customer: string;
  status: string;
  createdAt: string;
  historyTitle: string;
  historyStep: (status: string, at: string, by: string | undefined) => string;
  historyPending: string;
  refundReason: string;
  refundedBy: (by: string, at: string) => string;
  refundReference: string;
  markRefunded: string;
  refundMarked: string;
}

/** The door: a gate checking a session's tickets in, online or offline. */
export interface DoorMessages {
  title: string;
  refused: string;
  chooseSession: string;
  openGate: (event: string) => string;
  otherSession: string;
  online: string;
  offline: string;
  kitReady: (at: string, keys: number, revoked: number) => string;
  noKit: string;
  downloadKit: string;
  kitFailed: string;
  gate: string;
  code: string;
  checkIn: string;
  scan: string;
  camera: string;
  letIn: string;
  letInOffline: string;
  seatIn: (seat: string, sector: string) => string;
  standing: (sector: string) => string;
  alreadyIn: (at: string, gate: string) => string;
  alreadyInHere: string;
  refusals: Record<
    "malformed" | "unknownKey" | "forged" | "wrongSession" | "revoked" | "invalid",
    string
  >;
  pendingTitle: string;
  pending: (n: number) => string;
  sendNow: string;
  conflictsTitle: string;
  conflict: (ticket: string, gate: string, at: string) => string;
  nav: string;
}
