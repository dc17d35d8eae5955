// Money as the outbox commands print it: an amount with its currency's number of decimals.
//
//   std::string text;
//   AppendMoney(111.6, "EUR", text);  // "111.60 EUR"
//   AppendAmount(12000, "JPY", text);  // "12000" (no code: CSV has a currency column)
//
// Amounts are rounded half away from zero from their shortest decimal form, as a person
// would round what the listing said: 2.675 gives "2.68" (the binary value is below it).
#ifndef BONAFIDE_TOOLS_BONAFIDE_MONEY_H_
#define BONAFIDE_TOOLS_BONAFIDE_MONEY_H_

#include <string>
#include <string_view>

namespace bonafide::cli {

// Returns the digits after the point amounts of `currency` are written with: its ISO 4217
// minor unit (0 for JPY, KRW, VND, CLP, ISK, ...; 3 for BHD, IQD, JOD, KWD, LYD, OMR,
// TND; 4 for CLF and UYW), 2 for every other code, unknown ones included.
int CurrencyDecimals(std::string_view currency);

// Appends `amount` rounded to the currency's decimals ("111.60"). REQUIRES: finite.
void AppendAmount(double amount, std::string_view currency, std::string& out);

// Appends `amount` rounded to the currency's decimals, a space and the code ("111.60 EUR").
void AppendMoney(double amount, std::string_view currency, std::string& out);

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_MONEY_H_
