import type { Messages } from "./messages";

export const en: Messages = {
  brand: "bilheteria",
  language: "Language",
  events: "Events",
  allCategories: "All",
  category: "Category",
  categories: {
    show: "Shows",
    game: "Games",
    cinema: "Cinema",
    festival: "Festivals",
    other: "Other",
  },
  loadMore: "More events",
  noEvents: "No events here yet.",
  loading: "Loading…",
  sessions: "Sessions",
  noSessions: "This event has no sessions yet.",
  onSale: "On sale",
  notOnSale: "Not on sale now",
  saleOpens: (when: string) => `On sale from ${when}`,
  chooseSeats: "Choose seats",
  seatMap: "Seat map",
  seatMapHelp:
    "Drag to move, scroll or use + and − to zoom. Use the arrow keys to move between seats and Enter or Space to pick one.",
  zoomIn: "Zoom in",
  zoomOut: "Zoom out",
  zoomFit: "Show all",
  free: "Free",
  held: "Held",
  sold: "Sold",
  selected: "Chosen",
  seatTip: (row: string, number: number, price: string) => `Row ${row}, seat ${number} · ${price}`,
  seatName: (sector: string, row: string, number: number) =>
    `${sector}, row ${row}, seat ${number}`,
  available: (n: number) => (n === 1 ? "1 left" : `${n} left`),
  soldOut: "Sold out",
  quantity: "Quantity",
  places: "Standing tickets",
  yourChoice: "Your choice",
  nothingChosen: "Pick seats on the map or standing tickets.",
  limitReached: (n: number) => `You can take up to ${n} tickets for this session.`,
  total: "Total",
  remove: "Remove",
  updatedAt: (when: string) => `Availability updated at ${when}`,
  backToEvents: "Back to events",
  notFound: "We could not find this page.",
  tryAgain: "Try again",
  signIn: "Sign in",
  signOut: "Sign out",
  signingIn: "Signing in…",
  signInFailed: "We could not sign you in. Please try again.",
  signedInAs: (name: string) => `Hello, ${name}`,
  myReservations: "My reservations",
  hold: "Hold these",
  holding: "Holding…",
  signInToHold: "Sign in to hold",
  reservation: "Your reservation",
  status: {
    HELD: "Held",
    CHARGING: "Payment under way",
    PENDING_PAYMENT: "Waiting for payment",
    CONFIRMED: "Confirmed",
    CANCELLED: "Cancelled",
    EXPIRED: "Expired",
    REFUND_REQUIRED: "Refund due",
  },
  heldFor: (clock: string) => `Your seats are kept for ${clock} more`,
  holdExpired: "Your hold ran out and the seats went back on sale.",
  startAgain: "Choose again",
  addOns: "To go with it",
  inStock: (n: number) => `${n} in stock`,
  saveAddOns: "Update order",
  addOnsSaved: "Order updated.",
  payment: "Payment",
  card: "Card",
  pix: "PIX",
  boleto: "Boleto",
  cardNumber: "Card number",
  pay: (amount: string) => `Pay ${amount}`,
  paying: "Paying…",
  testCards: "Test cards (local stack)",
  testCardList: [
    "4111 1111 1111 1111: approved",
    "4000 0000 0000 0002: declined",
    "4000 0000 0000 9995: insufficient funds",
    "4000 0000 0000 0077: approved after 3 seconds",
  ],
  pixCode: "PIX copy-and-paste code",
  pixQr: "PIX QR code",
  boletoLine: "Boleto digitable line",
  copy: "Copy",
  copied: "Copied!",
  waitingPayment: "Waiting for the payment to be confirmed…",
  confirmed: "Payment confirmed! Your tickets are below.",
  tickets: "Your tickets",
  ticketFor: (what: string) => `Ticket: ${what}`,
  ticketCode: "Ticket code",
  invoice: "Invoice",
  invoiceNumber: (n: string) => `Invoice no. ${n}`,
  cancel: "Cancel reservation",
  cancelled: "Reservation cancelled: the seats went back on sale.",
  noReservations: "You have no reservations yet.",
  open: "Open",
  place: (sector: string) => `${sector}, standing`,
  declined: (reason: string) =>
    `The payment was declined (${reason === "insufficient_funds" ? "insufficient funds" : "card declined"}). Your seats are still held: try another card.`,
  signInRequired: "Sign in to see your reservations.",
  queueTitle: "Buying queue",
  queueHelp:
    "When demand is high, ask for your tickets through the queue: requests are served in the order they arrive and the best seats left are chosen for you.",
  sector: "Sector",
  joinQueue: "Join the queue",
  signInToQueue: "Sign in to join the queue",
  joining: "Sending…",
  requestTitle: "Your request in the queue",
  requestStatus: {
    QUEUED: "In the queue: requests are served in the order they arrive.",
    FULFILLED: "Request served! Your seats are held.",
    REJECTED: "We could not serve your request.",
  },
  queuedFor: (quantity: number, sector: string) =>
    `${quantity} ${quantity === 1 ? "ticket" : "tickets"} in ${sector}`,
  rejectReason: {
    SOLD_OUT: "This sector is sold out.",
    NOT_ENOUGH_LEFT: "Fewer tickets are left than you asked for. Try a smaller number.",
    LIMIT_EXCEEDED: "You already have as many tickets as this session allows.",
    SALE_CLOSED: "Sales for this session were not open.",
    INVALID: "The request was not valid for this session.",
    FAILED: "We could not handle your request. Please try again.",
  },
  continueToPay: "Continue to payment",
  problems: {
    MALFORMED_REQUEST: "Something in the request was not right. Reload the page and try again.",
    UNAUTHORIZED: "Your sign-in has expired. Sign in again to go on.",
    FORBIDDEN: "You are not allowed to do that.",
    NOT_FOUND: "We could not find what you were looking for.",
    CONFLICT: "This changed while you were deciding. See how it stands now and try again.",
    SALE_CLOSED: "Sales for this session are not open now.",
    LIMIT_EXCEEDED: "You already have as many tickets as this session allows.",
    SEATS_TAKEN: "Someone took one of these seats first. Please pick others.",
    SOLD_OUT: "This sector is sold out.",
    OUT_OF_STOCK: "This product is sold out.",
    RESERVATION_CHANGED: "Your reservation changed in another tab. See how it stands now.",
    HOLD_EXPIRED: "Your hold ran out and the seats went back on sale.",
    WRONG_STATE: "This reservation can no longer be changed.",
    UNKNOWN_PAYMENT: "We do not recognise this payment.",
    PAYMENT_IN_PROGRESS:
      "A payment for this reservation is already under way. Please wait a moment.",
    REQUEST_IN_FLIGHT: "Your previous request is still being handled. Please wait a moment.",
    PAYMENT_DECLINED: "The payment was declined. Your seats are still held: try another card.",
    PAYLOAD_TOO_LARGE: "The request is too large.",
    UNSUPPORTED_MEDIA_TYPE: "The request could not be read.",
    INVALID_INPUT: "Please check what you entered.",
    UNAVAILABLE: "We are very busy right now. Please try again in a few seconds.",
    INTERNAL: "Something went wrong on our side. Please try again shortly.",
  },
  network: "No connection to the box office. Check your internet and try again.",
  console: {
    title: "Organiser console",
    refused: "The console is for organisers. Your account is not in the organisers' group.",
    eventName: "Event name",
    venue: "Venue",
    description: "Description (optional)",
    newEvent: "New event",
    createEvent: "Create event",
    issue: (i) => {
      switch (i.kind) {
        case "required":
          return "Fill this in.";
        case "range":
          return `A whole number from ${i.min.toLocaleString("en")} to ${i.max.toLocaleString("en")}.`;
        case "code":
          return "Up to 32 lower-case letters, digits or dashes, not starting with a dash.";
        case "duplicateCode":
          return "Another sector has this code.";
        case "tooLong":
          return `At most ${i.max} characters.`;
        case "price":
          return "An amount above zero, like 120 or 120.50.";
        case "gapOutside":
          return `${i.gap} is not a seat of this sector.`;
        case "allGaps":
          return "Leave at least one seat.";
        case "startsInPast":
          return "The session must start in the future.";
        case "saleOrder":
          return "The sale must end after it starts.";
        case "saleAfterStart":
          return "The sale must end by the time the session starts.";
        case "sectorCount":
          return `Give from 1 to ${i.max} sectors.`;
        case "tooManySeats":
          return `${i.seats.toLocaleString("en")} numbered seats; a session has at most ${i.max.toLocaleString("en")}.`;
      }
    },
    sectorCount: (n) => (n === 1 ? "1 sector" : `${n} sectors`),
    asFansSeeIt: "As fans see it",
    newSession: "New session",
    noProducts: "No add-ons yet.",
    productName: "Product name",
    price: "Price",
    stock: "Stock",
    uncounted: "not counted",
    productCategories: { food: "Food", drink: "Drink", merchandise: "Merchandise", other: "Other" },
    newProduct: "New add-on",
    priceReais: "Price (R$)",
    stockHelp: "Stock (empty: not counted)",
    addProduct: "Add add-on",
    backToEvent: "Back to the event",
    whenAndLimits: "When and how many",
    startsAt: "Session starts",
    saleStartsAt: "Sale opens",
    saleEndsAt: "Sale closes",
    maxPerCustomer: "Tickets per customer (default 6)",
    sectors: "Sectors",
    sectorN: (n) => `Sector ${n}`,
    numberedSeats: (n) => `${n.toLocaleString("en")} numbered seats`,
    standingPlaces: (n) => `${n.toLocaleString("en")} standing places`,
    sectorName: (n) => `Sector ${n} name`,
    sectorCode: (n) => `Sector ${n} code`,
    sectorPrice: (n) => `Sector ${n} price (R$)`,
    rows: (n) => `Sector ${n} rows`,
    seatsPerRow: (n) => `Sector ${n} seats per row`,
    gaps: (n) => `Sector ${n} gaps (seats that do not exist)`,
    capacity: (n) => `Sector ${n} capacity`,
    removeSector: (n) => `Remove sector ${n}`,
    addNumbered: "Add a numbered sector",
    addStanding: "Add a standing sector",
    preview: "Seat map preview",
    previewHelp: (seats) =>
      `${seats.toLocaleString("en")} numbered seats. Click a seat to make it a gap (shown as picked); click again to give it back.`,
    noPreview: "Numbered sectors appear here once they have rows and seats.",
    fixFields: "Some fields need fixing before the session can be created.",
    createSession: "Create session",
  },
};
