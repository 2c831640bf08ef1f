import journal from './meta/_journal.json';
import m0000 from './0000_init.sql';
import m0001 from './0001_email_contacts.sql';
import m0002 from './0002_email_templates.sql';
import m0003 from './0003_email_broadcasts.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003
    }
  }
  