// inventory.js: placeholder until the page is built (issue 11).
import { NotAvailablePage } from './misc.js';

export const InventoryPage = NotAvailablePage;
