import { LocationProvider, Route, Router } from "preact-iso";
import { useAuth } from "./auth";
import { Callback } from "./auth/Callback";
import { isAdmin } from "./console/AdminOnly";
import { DeskPage } from "./console/Desk";
import { ConsoleEventPage } from "./console/Event";
import { ConsoleEventsPage } from "./console/Events";
import { NewSessionPage } from "./console/NewSession";
import { SalesPage } from "./console/Sales";
import { DoorPage, isStaff } from "./door/Door";
import { GatePage } from "./door/Gate";
import { LOCALES, type Locale, useI18n } from "./i18n";
import { EventPage } from "./storefront/Event";
import { EventsPage } from "./storefront/Events";
import { MyReservationsPage } from "./storefront/MyReservations";
import { RequestPage } from "./storefront/Queue";
import { ReservationPage } from "./storefront/Reservation";
import { SessionPage } from "./storefront/Session";

function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <h1>{t.notFound}</h1>
      <a href="/">{t.backToEvents}</a>
    </section>
  );
}

function Header() {
  const { t, locale, setLocale } = useI18n();
  const { user, sub, signIn, signOut } = useAuth();
  return (
    <header class="top">
      <a class="brand" href="/">
        {t.brand}
      </a>
      <nav class="account" aria-label={t.myReservations}>
        {sub ? (
          <>
            <span>{t.signedInAs(sub)}</span>
            <a href="/me">{t.myReservations}</a>
            {isAdmin(user) && <a href="/admin">{t.console.title}</a>}
            {isStaff(user) && <a href="/door">{t.door.nav}</a>}
            <button type="button" class="link" onClick={() => void signOut()}>
              {t.signOut}
            </button>
          </>
        ) : (
          <button type="button" onClick={() => void signIn()}>
            {t.signIn}
          </button>
        )}
      </nav>
      <label class="language">
        <span>{t.language}</span>
        <select
          value={locale}
          onChange={(e) => setLocale((e.currentTarget as HTMLSelectElement).value as Locale)}
        >
          {(Object.keys(LOCALES) as Locale[]).map((l) => (
            <option key={l} value={l}>
              {LOCALES[l].label}
            </option>
          ))}
        </select>
      </label>
    </header>
  );
}

/** Routes and the page frame only; each page is its own file. */
export function App() {
  return (
    <LocationProvider>
      <Header />
      <main>
        <Router>
          <Route path="/" component={EventsPage} />
          <Route path="/events/:id" component={EventPage} />
          <Route path="/sessions/:id" component={SessionPage} />
          <Route path="/reservations/:id" component={ReservationPage} />
          <Route path="/me" component={MyReservationsPage} />
          <Route path="/requests/:id" component={RequestPage} />
          <Route path="/admin" component={ConsoleEventsPage} />
          <Route path="/admin/events/:id" component={ConsoleEventPage} />
          <Route path="/admin/events/:id/sessions/new" component={NewSessionPage} />
          <Route path="/admin/sessions/:id" component={SalesPage} />
          <Route path="/admin/reservations" component={DeskPage} />
          <Route path="/door" component={DoorPage} />
          <Route path="/door/sessions/:id" component={GatePage} />
          <Route path="/callback" component={Callback} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </LocationProvider>
  );
}
