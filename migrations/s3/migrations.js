import journal from './meta/_journal.json';
import m0000 from './0000_s3_init.sql';
import m0001 from './0001_s3_versioning.sql';
import m0002 from './0002_s3_part_numbers.sql';
import m0003 from './0003_s3_notifications.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003
    }
  }
  