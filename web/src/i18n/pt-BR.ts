import type { Messages } from "./messages";

export const ptBR: Messages = {
  brand: "bilheteria",
  language: "Idioma",
  events: "Eventos",
  allCategories: "Todas",
  category: "Categoria",
  categories: {
    show: "Shows",
    game: "Jogos",
    cinema: "Cinema",
    festival: "Festivais",
    other: "Outros",
  },
  loadMore: "Mais eventos",
  noEvents: "Nenhum evento por aqui ainda.",
  loading: "Carregando…",
  sessions: "Sessões",
  noSessions: "Este evento ainda não tem sessões.",
  onSale: "À venda",
  notOnSale: "Fora do período de venda",
  saleOpens: (when: string) => `Vendas a partir de ${when}`,
  chooseSeats: "Escolher lugares",
  seatMap: "Mapa de lugares",
  seatMapHelp:
    "Arraste para mover, role ou use + e − para aproximar. Use as setas para andar entre os lugares e Enter ou espaço para escolher.",
  zoomIn: "Aproximar",
  zoomOut: "Afastar",
  zoomFit: "Ver tudo",
  free: "Livre",
  held: "Reservado",
  sold: "Vendido",
  selected: "Escolhido",
  seatTip: (row: string, number: number, price: string) =>
    `Fileira ${row}, lugar ${number} · ${price}`,
  seatName: (sector: string, row: string, number: number) =>
    `${sector}, fileira ${row}, lugar ${number}`,
  available: (n: number) => (n === 1 ? "1 disponível" : `${n} disponíveis`),
  soldOut: "Esgotado",
  quantity: "Quantidade",
  places: "Ingressos de pista",
  yourChoice: "Sua escolha",
  nothingChosen: "Escolha lugares no mapa ou ingressos de pista.",
  limitReached: (n: number) => `Você pode levar até ${n} ingressos nesta sessão.`,
  total: "Total",
  remove: "Remover",
  updatedAt: (when: string) => `Disponibilidade atualizada às ${when}`,
  backToEvents: "Voltar aos eventos",
  notFound: "Não encontramos esta página.",
  tryAgain: "Tentar de novo",
  signIn: "Entrar",
  signOut: "Sair",
  signingIn: "Entrando…",
  signInFailed: "Não foi possível entrar. Tente de novo.",
  signedInAs: (name: string) => `Olá, ${name}`,
  myReservations: "Minhas reservas",
  hold: "Reservar",
  holding: "Reservando…",
  signInToHold: "Entre para reservar",
  reservation: "Sua reserva",
  status: {
    HELD: "Reservada",
    CHARGING: "Pagamento em andamento",
    PENDING_PAYMENT: "Aguardando pagamento",
    CONFIRMED: "Confirmada",
    CANCELLED: "Cancelada",
    EXPIRED: "Expirada",
    REFUND_REQUIRED: "Reembolso pendente",
  },
  heldFor: (clock: string) => `Seus lugares estão guardados por mais ${clock}`,
  holdExpired: "O tempo da reserva acabou e os lugares voltaram à venda.",
  startAgain: "Escolher de novo",
  addOns: "Para acompanhar",
  inStock: (n: number) => (n === 1 ? "1 em estoque" : `${n} em estoque`),
  saveAddOns: "Atualizar pedido",
  addOnsSaved: "Pedido atualizado.",
  payment: "Pagamento",
  card: "Cartão",
  pix: "PIX",
  boleto: "Boleto",
  cardNumber: "Número do cartão",
  pay: (amount: string) => `Pagar ${amount}`,
  paying: "Pagando…",
  testCards: "Cartões de teste (ambiente local)",
  testCardList: [
    "4111 1111 1111 1111: aprovado",
    "4000 0000 0000 0002: recusado",
    "4000 0000 0000 9995: saldo insuficiente",
    "4000 0000 0000 0077: aprovado depois de 3 segundos",
  ],
  pixCode: "PIX copia e cola",
  pixQr: "QR code do PIX",
  boletoLine: "Linha digitável do boleto",
  copy: "Copiar",
  copied: "Copiado!",
  waitingPayment: "Aguardando a confirmação do pagamento…",
  confirmed: "Pagamento confirmado! Seus ingressos estão abaixo.",
  tickets: "Seus ingressos",
  ticketFor: (what: string) => `Ingresso: ${what}`,
  ticketCode: "Código do ingresso",
  invoice: "Nota fiscal",
  invoiceNumber: (n: string) => `Nota fiscal nº ${n}`,
  cancel: "Cancelar reserva",
  cancelled: "Reserva cancelada: os lugares voltaram à venda.",
  noReservations: "Você ainda não tem reservas.",
  open: "Abrir",
  place: (sector: string) => `${sector}, pista`,
  declined: (reason: string) =>
    `O pagamento foi recusado (${reason === "insufficient_funds" ? "saldo insuficiente" : "cartão recusado"}). Seus lugares continuam reservados: tente outro cartão.`,
  signInRequired: "Entre para ver suas reservas.",
  queueTitle: "Fila de compra",
  queueHelp:
    "Em dia de grande procura, peça seus ingressos pela fila: os pedidos são atendidos na ordem em que chegam e os melhores lugares disponíveis são escolhidos para você.",
  sector: "Setor",
  joinQueue: "Entrar na fila",
  signInToQueue: "Entre para pedir pela fila",
  joining: "Enviando…",
  requestTitle: "Seu pedido na fila",
  requestStatus: {
    QUEUED: "Na fila: seu pedido será atendido na ordem de chegada.",
    FULFILLED: "Pedido atendido! Seus lugares estão reservados.",
    REJECTED: "Não foi possível atender seu pedido.",
  },
  queuedFor: (quantity: number, sector: string) =>
    `${quantity} ${quantity === 1 ? "ingresso" : "ingressos"} em ${sector}`,
  rejectReason: {
    SOLD_OUT: "Os ingressos deste setor acabaram.",
    NOT_ENOUGH_LEFT: "Restam menos ingressos do que você pediu. Tente uma quantidade menor.",
    LIMIT_EXCEEDED: "Você já tem o máximo de ingressos permitido para esta sessão.",
    SALE_CLOSED: "As vendas desta sessão não estavam abertas.",
    INVALID: "O pedido não era válido para esta sessão.",
    FAILED: "Não conseguimos processar seu pedido. Tente de novo.",
  },
  continueToPay: "Continuar para o pagamento",
  problems: {
    MALFORMED_REQUEST: "Algo no pedido não estava certo. Recarregue a página e tente de novo.",
    UNAUTHORIZED: "Sua sessão expirou. Entre de novo para continuar.",
    FORBIDDEN: "Você não tem permissão para fazer isso.",
    NOT_FOUND: "Não encontramos o que você procurava.",
    CONFLICT: "Isso mudou enquanto você decidia. Veja como está agora e tente de novo.",
    SALE_CLOSED: "As vendas desta sessão não estão abertas agora.",
    LIMIT_EXCEEDED: "Você já tem o máximo de ingressos permitido para esta sessão.",
    SEATS_TAKEN: "Alguém pegou um desses lugares antes. Escolha outros.",
    SOLD_OUT: "Os ingressos deste setor acabaram.",
    OUT_OF_STOCK: "Este produto acabou.",
    RESERVATION_CHANGED: "Sua reserva mudou em outra aba. Veja como está agora.",
    HOLD_EXPIRED: "O tempo da sua reserva acabou e os lugares voltaram à venda.",
    WRONG_STATE: "Esta reserva não pode mais ser alterada.",
    UNKNOWN_PAYMENT: "Não reconhecemos este pagamento.",
    PAYMENT_IN_PROGRESS: "Um pagamento desta reserva já está em andamento. Aguarde um instante.",
    REQUEST_IN_FLIGHT: "Seu pedido anterior ainda está sendo processado. Aguarde um instante.",
    PAYMENT_DECLINED:
      "O pagamento foi recusado. Seus lugares continuam reservados: tente outro cartão.",
    PAYLOAD_TOO_LARGE: "O pedido é grande demais.",
    UNSUPPORTED_MEDIA_TYPE: "O pedido não pôde ser lido.",
    INVALID_INPUT: "Confira os dados informados.",
    UNAVAILABLE: "Estamos com muita procura agora. Tente de novo em alguns segundos.",
    INTERNAL: "Algo deu errado do nosso lado. Tente de novo em instantes.",
  },
  network: "Sem conexão com a bilheteria. Verifique sua internet e tente de novo.",
  console: {
    title: "Console do organizador",
    refused: "O console é para organizadores. Sua conta não está no grupo de organizadores.",
    eventName: "Nome do evento",
    venue: "Local",
    description: "Descrição (opcional)",
    newEvent: "Novo evento",
    createEvent: "Criar evento",
    issue: (i) => {
      switch (i.kind) {
        case "required":
          return "Preencha este campo.";
        case "range":
          return `Um número inteiro de ${i.min.toLocaleString("pt-BR")} a ${i.max.toLocaleString("pt-BR")}.`;
        case "code":
          return "Até 32 letras minúsculas, dígitos ou hífens, sem começar por hífen.";
        case "duplicateCode":
          return "Outro setor já tem este código.";
        case "tooLong":
          return `No máximo ${i.max} caracteres.`;
        case "price":
          return "Um valor acima de zero, como 120 ou 120,50.";
        case "gapOutside":
          return `${i.gap} não é um lugar deste setor.`;
        case "allGaps":
          return "Deixe pelo menos um lugar.";
        case "startsInPast":
          return "A sessão precisa começar no futuro.";
        case "saleOrder":
          return "As vendas precisam terminar depois de começar.";
        case "saleAfterStart":
          return "As vendas precisam terminar até o início da sessão.";
        case "sectorCount":
          return `Informe de 1 a ${i.max} setores.`;
        case "tooManySeats":
          return `${i.seats.toLocaleString("pt-BR")} lugares numerados; uma sessão tem no máximo ${i.max.toLocaleString("pt-BR")}.`;
      }
    },
    onSale: "Vendas",
    links: "Links",
    asFansSeeIt: "Como o público vê",
    newSession: "Nova sessão",
    noProducts: "Nenhum adicional ainda.",
    productName: "Nome do produto",
    price: "Preço",
    stock: "Estoque",
    uncounted: "sem controle",
    productCategories: {
      food: "Comida",
      drink: "Bebida",
      merchandise: "Produtos",
      other: "Outros",
    },
    newProduct: "Novo adicional",
    priceReais: "Preço (R$)",
    stockHelp: "Estoque (vazio: sem controle)",
    addProduct: "Adicionar produto",
    backToEvent: "Voltar ao evento",
    whenAndLimits: "Quando (horário de Brasília) e quantos",
    startsAt: "Início da sessão",
    saleStartsAt: "Abertura das vendas",
    saleEndsAt: "Fim das vendas",
    maxPerCustomer: "Ingressos por cliente (padrão 6)",
    sectors: "Setores",
    sectorN: (n) => `Setor ${n}`,
    numberedSeats: (n) => `${n.toLocaleString("pt-BR")} lugares numerados`,
    standingPlaces: (n) => `${n.toLocaleString("pt-BR")} lugares em pé`,
    sectorName: (n) => `Nome do setor ${n}`,
    sectorCode: (n) => `Código do setor ${n}`,
    sectorPrice: (n) => `Preço do setor ${n} (R$)`,
    rows: (n) => `Fileiras do setor ${n}`,
    seatsPerRow: (n) => `Lugares por fileira do setor ${n}`,
    gaps: (n) => `Vãos do setor ${n} (lugares que não existem)`,
    capacity: (n) => `Capacidade do setor ${n}`,
    removeSector: (n) => `Remover setor ${n}`,
    addNumbered: "Adicionar setor numerado",
    addStanding: "Adicionar setor em pé",
    preview: "Prévia do mapa de lugares",
    previewHelp: (seats) =>
      `${seats.toLocaleString("pt-BR")} lugares numerados. Clique num lugar para torná-lo um vão (aparece como escolhido); clique de novo para devolvê-lo.`,
    noPreview: "Os setores numerados aparecem aqui quando têm fileiras e lugares.",
    fixFields: "Alguns campos precisam de correção antes de criar a sessão.",
    createSession: "Criar sessão",
  },
};
