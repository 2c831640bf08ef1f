import journal from './meta/_journal.json';
import m0000 from './0000_stripe_init.sql';
import m0001 from './0001_stripe_test_clocks_invoice_items.sql';
import m0002 from './0002_stripe_tax_balances_shipping.sql';
import m0003 from './0003_stripe_credit_notes.sql';
import m0004 from './0004_stripe_disputes.sql';
import m0005 from './0005_stripe_payment_links.sql';
import m0006 from './0006_stripe_portal_configurations.sql';
import m0007 from './0007_stripe_payouts.sql';
import m0008 from './0008_stripe_subscription_schedules.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003,
m0004,
m0005,
m0006,
m0007,
m0008
    }
  }
  