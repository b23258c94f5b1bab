# language: sv
Egenskap: Tillkommande ersättning 2019 för MMR1 vid Lextorp Vårdcentral
  Som handläggare på hälso- och sjukvårdsstyrelsen
  vill jag att verktyget räknar 35 000 kr per avslutad behandlingsserie MMR1 registrerad i VEGA,
  prövar månadsfakturorna mot anvisningen och stämmer av helåret mot VEGA,
  så att för lite fakturerat betalas ut och för mycket fakturerat visas som en möjlig
  återbetalning som en person tar ställning till (källan: fråga om återbetalning "kan väckas").

  Exempeldatan: teamkompetensen är intygad, 28 avslutade serier 2019 (S001–S028, alla i NRS),
  12 månadsfakturor (rad 2–13 i fakturor.csv, januari–december) på sammanlagt 30 serier
  = 1 050 000 kr, och återrapporten inkom 2020-01-10.

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-lextorp-2019.villkor"
    Och exempeldata från "examples/vgr-lextorp-2019"

  # ---- Exempeldatan ---------------------------------------------------------------------

  # 28 serier × 35 000 kr = 980 000 kr intjänat; fakturerat 30 × 35 000 = 1 050 000 kr.
  # 980 000 − 1 050 000 = −70 000 kr: en möjlig återbetalning, som en person avgör
  # (`vid återbetalning bedömning krävs`): utfallet är bedömning krävs och raden har inget belopp.
  Scenario: Exempeldatan: 28 serier ger 980 000 kr och en möjlig återbetalning på 70 000 kr
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "1" "uppfyllt"
    Och är utfallet för mottagare "612300" och villkor "2" "uppfyllt"
    Och är utfallet för mottagare "612300" och villkor "3" "uppfyllt"
    Och är utfallet för mottagare "612300" och villkor "4" "uppfyllt"
    Och får mottagare "612300" för villkor "1" "980 000 kr"
    Och får mottagare "612300" totalt "980 000 kr"
    Och är utfallet för mottagare "612300" och villkor "helår" "bedömning krävs"
    Och saknar mottagare "612300" belopp för villkor "helår"
    Och ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "70 000 kr"
    Och säger anmärkningen för mottagare "612300" och villkor "helår" "möjlig återbetalning 70 000 kr; källan lämnar frågan om återbetalning till en person"
    Och godkänns alla fakturarader
    Och säger förklaringen för mottagare "612300" och villkor "helår":
      """
      fakturerat 1 050 000 kr, intjänat 980 000 kr
      980 000 kr − 1 050 000 kr = −70 000 kr: möjlig återbetalning 70 000 kr
      Om villkoren inte är uppfyllda kan fråga om återbetalningskyldighet väckas
      """

  # ---- Antalet serier i VEGA och helårsavstämningen ----------------------------------------

  # Intjänat = 35 000 kr × serier avslutade 2019; avstämningen = intjänat − fakturerat 1 050 000 kr:
  #   28 serier:   980 000 − 1 050 000 = −70 000 kr (möjlig återbetalning, en person avgör)
  #   29 serier: 1 015 000 − 1 050 000 = −35 000 kr (möjlig återbetalning)
  #   30 serier: 1 050 000 − 1 050 000 = 0 kr
  #   31 serier: 1 085 000 − 1 050 000 = 35 000 kr att betala
  #   38 serier: 1 330 000 − 1 050 000 = 280 000 kr att betala
  Scenariomall: Helårsavstämningen mot antalet serier i VEGA
    Givet följande rader läggs till "<fler>" gånger i filen "vega.csv":
      | enhetskod | avslutad   | nrs |
      | 612300    | 2019-12-20 | ja  |
    När utfallet beräknas
    Så får mottagare "612300" för villkor "1" "<intjänat>"
    Och ger avstämningen "helår" för mottagare "612300" <avstämning>

    Exempel:
      | fler | intjänat     | avstämning                       |
      | 0    | 980 000 kr   | möjlig återbetalning "70 000 kr" |
      | 1    | 1 015 000 kr | möjlig återbetalning "35 000 kr" |
      | 2    | 1 050 000 kr | ingen differens                  |
      | 3    | 1 085 000 kr | att betala "35 000 kr"           |
      | 10   | 1 330 000 kr | att betala "280 000 kr"          |

  # Bara en negativ differens lämnas till en person; att betala och ingen differens är uppfyllt.
  Scenariomall: Helårsavstämningens utfall
    Givet följande rader läggs till "<fler>" gånger i filen "vega.csv":
      | enhetskod | avslutad   | nrs |
      | 612300    | 2019-12-20 | ja  |
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "helår" "<utfall>"
    Och säger anmärkningen för mottagare "612300" och villkor "helår" "<anmärkning>"

    Exempel:
      | fler | utfall          | anmärkning                                                            |
      | 0    | bedömning krävs | möjlig återbetalning 70 000 kr                                        |
      | 2    | uppfyllt        | ingen differens (fakturerat 1 050 000 kr, intjänat 1 050 000 kr)      |
      | 3    | uppfyllt        | att betala 35 000 kr (fakturerat 1 050 000 kr, intjänat 1 085 000 kr) |

  # 27 serier: 945 000 kr intjänat, 945 000 − 1 050 000 = −105 000 kr: möjlig återbetalning.
  Scenario: En serie som inte finns i VEGA ger en större möjlig återbetalning
    Givet att raden för "S028" i filen "vega.csv" tas bort
    När utfallet beräknas
    Så får mottagare "612300" för villkor "1" "945 000 kr"
    Och ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "105 000 kr"

  Scenariomall: Bara serier avslutade under 2019 räknas
    Givet följande rader läggs till i filen "vega.csv":
      | enhetskod | serie | avslutad   | nrs |
      | 612300    | S100  | <avslutad> | ja  |
    När utfallet beräknas
    Så får mottagare "612300" för villkor "1" "<belopp>"

    Exempel:
      | avslutad   | belopp       |
      | 2018-12-31 | 980 000 kr   |
      | 2019-01-01 | 1 015 000 kr |
      | 2019-12-31 | 1 015 000 kr |
      | 2020-01-01 | 980 000 kr   |

  # ---- Villkor 1 och 2: teamkompetens och NRS ----------------------------------------------

  Scenario: Utan intygad teamkompetens betalas ingenting
    Givet att kolumnen "teamkompetens_intygad" för "612300" i filen "utforare.csv" är "nej"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "1" "ej uppfyllt"
    Och får mottagare "612300" för villkor "1" "0 kr"
    Och får mottagare "612300" totalt "0 kr"

  # Rad 29 i vega.csv är serie S028 (avslutad 2019-12-10).
  # Villkoren är inte uppfyllda: inget är intjänat, 0 − 1 050 000 (30 × 35 000 kr) = −1 050 000 kr.
  # Källan: fråga om återbetalning "kan väckas" – allt fakturerat är en möjlig återbetalning,
  # aldrig en automatisk.
  Scenario: En serie som inte registrerats i NRS gör villkor 2 ej uppfyllt och ingen ersättning betalas
    Givet att kolumnen "nrs" på rad "29" i filen "vega.csv" är "nej"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "2" "ej uppfyllt"
    Och är utfallet för mottagare "612300" och villkor "1" "ej uppfyllt"
    Och får mottagare "612300" för villkor "1" "0 kr"
    Och får mottagare "612300" totalt "0 kr"
    Och är utfallet för mottagare "612300" och villkor "helår" "bedömning krävs"
    Och saknar mottagare "612300" belopp för villkor "helår"
    Och ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "1 050 000 kr"
    Och säger anmärkningen för mottagare "612300" och villkor "helår" "fakturerat 1 050 000 kr, intjänat 0 kr"

  Scenario: Okänt om en serie registrerats i NRS ger underlag saknas
    Givet att kolumnen "nrs" på rad "29" i filen "vega.csv" är tom
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "2" "underlag saknas"
    Och är utfallet för mottagare "612300" och villkor "1" "underlag saknas"
    Och saknar mottagare "612300" belopp för villkor "1"
    Och är utfallet för mottagare "612300" och villkor "helår" "underlag saknas"
    Och saknar mottagare "612300" belopp för villkor "helår"

  Scenario: En serie från 2018 utan NRS påverkar inte 2019
    Givet följande rader läggs till i filen "vega.csv":
      | enhetskod | serie | avslutad   | nrs |
      | 612300    | S900  | 2018-11-30 | nej |
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "2" "uppfyllt"
    Och får mottagare "612300" för villkor "1" "980 000 kr"

  # ---- Villkor 3: återrapporteringen senast 2020-01-15 -------------------------------------

  Scenariomall: Återrapporten prövas mot fristen 2020-01-15
    Givet att kolumnen "inkom" för "612300" i filen "rapport.csv" är "<inkom>"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "3" "<utfall>"
    Och får mottagare "612300" för villkor "1" "980 000 kr"

    Exempel:
      | inkom      | utfall          |
      | 2020-01-15 | uppfyllt        |
      | 2020-01-16 | bedömning krävs |

  Scenario: Utan återrapport saknas underlag för villkor 3
    Givet att filen "rapport.csv" saknas
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "3" "underlag saknas"

  Scenario: En återrapport utan vidtagna åtgärder ger underlag saknas
    Givet att kolumnen "vidtagna_åtgärder" för "612300" i filen "rapport.csv" är tom
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "3" "underlag saknas"

  # ---- Fakturorna ------------------------------------------------------------------------

  # Rad 2 är januari, rad 13 december. En regel som bryts ger en anmärkning på just den raden.
  Scenariomall: En faktura som bryter mot en regel avvisas, de andra godkänns
    Givet att kolumnen "<kolumn>" på rad "<rad>" i filen "fakturor.csv" är "<värde>"
    När utfallet beräknas
    Så avvisas fakturaraden på rad "<rad>" i "fakturor.csv" med anmärkningen "<anmärkning>"
    Och har fakturaraden på rad "<rad>" i "fakturor.csv" "1" anmärkning
    Och avvisas "1" fakturarader
    Och godkänns fakturaraden på rad "2" i "fakturor.csv"

    Exempel:
      | regel                 | kolumn      | rad | värde     | anmärkning                                              |
      | fel beställarid       | beställarid | 3   | 6080001   | beställarid är 6080001, ska vara 6080002                |
      | fel kundnummer        | kundnummer  | 4   | I71103    | kundnummer är I71103, ska vara I71102                   |
      | fel enhetskod         | enhetskod   | 5   | 612301    | enhetskod är 612301, ska vara 612300                    |
      | okänd produktkod      | produktkod  | 6   | 90152     | okänd produktkod 90152                                  |
      | månad utanför året    | månad       | 7   | 2020-01   | utanför perioden 2019-01-01–2019-12-31                  |
      | felskriven månad      | månad       | 8   | juli 2019 | ska skrivas ÅÅÅÅ-MM                                     |
      | belopp ≠ antal × pris | belopp      | 9   | 105001    | stämmer inte med antal × pris = 3 × 35 000 kr = 105 000 kr |
      | belopp saknas         | belopp      | 10  |           | belopp saknas                                           |

  # Den tillagda raden blir rad 14; kolumner som tabellen utelämnar blir tomma.
  # Fakturerat 31 × 35 000 = 1 085 000 kr; 980 000 − 1 085 000 = −105 000 kr: möjlig återbetalning.
  Scenario: En trettonde faktura godkänns men ökar den möjliga återbetalningen
    Givet följande rader läggs till i filen "fakturor.csv":
      | fakturanummer | beställarid | kundnummer | enhetskod | produktkod | månad   | antal | belopp |
      | F2019-13      | 6080002     | I71102     | 612300    | 90157      | 2019-12 | 1     | 35000  |
    När utfallet beräknas
    Så godkänns alla fakturarader
    Och godkänns fakturaraden på rad "14" i "fakturor.csv"
    Och ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "105 000 kr"

  Scenario: En tillagd faktura utan kundnummer avvisas
    Givet följande rader läggs till i filen "fakturor.csv":
      | beställarid | enhetskod | produktkod | månad   | antal | belopp |
      | 6080002     | 612300    | 90157      | 2019-12 | 1     | 35000  |
    När utfallet beräknas
    Så avvisas fakturaraden på rad "14" i "fakturor.csv" med anmärkningen "kundnummer saknas"
    Och har fakturaraden på rad "14" i "fakturor.csv" "1" anmärkning
    Och avvisas "1" fakturarader

  # ---- Villkor 4: kraven i riktlinjen intygas genom fakturering ------------------------------

  # Ett åtagande utan eget belopp: raden har bara ett utfall och ingår inte i summan.
  Scenario: Fakturorna för MMR1 intygar kraven i riktlinjen
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "4" "uppfyllt"
    Och saknar mottagare "612300" belopp för villkor "4"
    Och säger anmärkningen för mottagare "612300" och villkor "4" "ingen utbetalning är knuten till villkoret"
    Och får mottagare "612300" totalt "980 000 kr"

  # Utan en enda fakturarad med produktkod 90157 finns inget intygande. Avstämningen:
  # fakturerat 0 kr, intjänat 28 × 35 000 = 980 000 kr; 980 000 − 0 = 980 000 kr att betala.
  Scenario: Utan faktura för MMR1 är kraven i riktlinjen inte intygade
    Givet filen "fakturor.csv" med:
      | fakturanummer | beställarid | kundnummer | enhetskod | produktkod | månad | antal | belopp |
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "4" "ej uppfyllt"
    Och saknar mottagare "612300" belopp för villkor "4"
    Och får mottagare "612300" för villkor "1" "980 000 kr"
    Och får mottagare "612300" totalt "980 000 kr"
    Och ger avstämningen "helår" för mottagare "612300" att betala "980 000 kr"

  # Alla tolv fakturor (rad 2–13) på en annan produktkod: ingen intygar MMR1.
  Scenario: Fakturor på en annan produktkod intygar inte kraven för MMR1
    Givet att kolumnen "produktkod" på rad "2" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "3" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "4" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "5" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "6" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "7" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "8" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "9" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "10" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "11" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "12" i filen "fakturor.csv" är "90158"
    Och att kolumnen "produktkod" på rad "13" i filen "fakturor.csv" är "90158"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "4" "ej uppfyllt"
    Och avvisas "12" fakturarader

  # En enda fakturarad, utan produktkod: okänt om den gäller MMR1, så underlaget saknas.
  Scenario: En faktura utan produktkod ger underlag saknas för villkor 4
    Givet filen "fakturor.csv" med:
      | fakturanummer | beställarid | kundnummer | enhetskod | produktkod | månad   | antal | belopp |
      | F2019-01      | 6080002     | I71102     | 612300    |            | 2019-01 | 2     | 70000  |
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "4" "underlag saknas"
    Och avvisas fakturaraden på rad "2" i "fakturor.csv" med anmärkningen "okänd produktkod (tom)"
