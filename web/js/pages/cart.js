// cart.js: placeholder until the page is built (issue 11).
import { NotAvailablePage } from './misc.js';

export const CartPage = NotAvailablePage;
export const CheckoutPage = NotAvailablePage;
export const CheckoutCompletePage = NotAvailablePage;
