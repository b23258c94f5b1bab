# language: sv
Egenskap: Tillkommande ersättning 2018 till Närhälsan för sjukskrivnings- och rehabiliteringsprocessen
  Som handläggare på Styrelsen för Beställd primärvård
  vill jag att verktyget beräknar de fyra åtagandena exakt, prövar återrapporterna mot
  fristerna och månadsfakturorna mot anvisningen och stämmer av helåret,
  så att utbetalningen stämmer med anvisningens ersättningstabell.

  Exempeldatan: 60 vårdcentraler med sammanlagt 1 196 550 listade 16–67 år (vårdcentral 1 på rad 2
  i listade.csv har 21 387), fyra projekt varav det sista (rad 5 i projekt.csv, 400 000 kr) sökte
  för sent (2018-03-05), båda återrapporterna i tid och 48 månadsfakturor i fakturor.csv:
  rad 2–13 är 90152 (januari–december), rad 14–25 är 90153, rad 26–37 är 90154, rad 38–49 är 90155.

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-narhalsan-2018.villkor"
    Och exempeldata från "examples/vgr-narhalsan-2018"

  # ---- Ersättningstabellen --------------------------------------------------------------

  # 90152: 7 500 000 kr. 90153: 624 300 × 1 196 550 / 15 000 = 49 800 411 kr (exakt).
  # 90154: 10 800 000 kr. 90155: 4 200 000 + 3 300 000 + 3 000 000 = 10 500 000 kr (utan den sena).
  Scenariomall: Exempeldatan ger anvisningens belopp
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "<villkor>" "uppfyllt"
    Och får mottagare "Närhälsan" för villkor "<villkor>" "<belopp>"

    Exempel:
      | villkor | belopp        |
      | 1       | 7 500 000 kr  |
      | 2       | 49 800 411 kr |
      | 3       | 10 800 000 kr |
      | 4       | 10 500 000 kr |
      | summa   | 78 600 411 kr |

  Scenario: Exempeldatan: rapporterna i tid, alla fakturor godkända och ingen differens vid helåret
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "5.1" "uppfyllt"
    Och är utfallet för mottagare "Närhälsan" och villkor "5.2" "uppfyllt"
    Och saknar mottagare "Närhälsan" belopp för villkor "5.1"
    Och godkänns alla fakturarader
    Och ger avstämningen "helår" för mottagare "Närhälsan" ingen differens
    Och är kontrollen "Beloppen i ersättningstabellen summerar till cirka 68 100 000 kr" uppfylld
    Och är kontrollen "Lokal processledning motsvarar knappt 13 tjänstefaktorer" uppfylld

  # ---- Rehabiliteringskoordinering: 624 300 kr per 15 000 listade -------------------------

  # Vårdcentral 1 ändras; summan av de listade blir 1 196 550 − 21 387 + <listade>.
  # Belopp = 624 300 × listade / 15 000 = 41,62 kr per listad, avrundat till hela kronor, halvt uppåt:
  #   1 196 525 × 41,62 = 49 799 370,50 → 49 799 371 kr
  #   1 197 741 × 41,62 = 49 849 980,42 → 49 849 980 kr
  #   1 195 339 × 41,62 = 49 750 009,18 → 49 750 009 kr
  Scenariomall: Rehabkoordineringen räknas från de listade
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "<listade>"
    När utfallet beräknas
    Så får mottagare "Närhälsan" för villkor "2" "<belopp>"
    Och är kontrollen "Rehabkoordineringen enligt de listade är cirka 49 800 000 kr (±50 000 kr)" uppfylld

    Exempel:
      | listade | summa listade | belopp        |
      | 21387   | 1 196 550     | 49 800 411 kr |
      | 21362   | 1 196 525     | 49 799 371 kr |
      | 22578   | 1 197 741     | 49 849 980 kr |
      | 20176   | 1 195 339     | 49 750 009 kr |

  # 1 197 742 × 41,62 = 49 850 022,04 och 1 195 338 × 41,62 = 49 749 967,56: mer än 50 000 kr
  # från "cirka 49 800 000 kronor", så beräkningen stoppas.
  Scenariomall: Listade utanför toleransen stoppar beräkningen
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "<listade>"
    När utfallet beräknas
    Så är kontrollen "Rehabkoordineringen enligt de listade är cirka 49 800 000 kr (±50 000 kr)" inte uppfylld
    Och felet nämner "<vänster sida>"

    Exempel:
      | listade | summa listade | vänster sida |
      | 22579   | 1 197 742     | 49850022     |
      | 20175   | 1 195 338     | 49749967     |

  # Taket för 90153 blir 49 750 009,18 kr; decemberfakturan (rad 25) tar summan till 49 800 411 kr.
  # Helåret: intjänat avrundas till hela kronor, 49 750 009 − 49 800 411 = −50 402 kr.
  Scenario: Färre listade: decemberfakturan för 90153 går över taket och en del betalas tillbaka
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "20176"
    När utfallet beräknas
    Så avvisas fakturaraden på rad "25" i "fakturor.csv" med anmärkningen "mer än beviljat 49 750 009,18 kr"
    Och avvisas "1" fakturarader
    Och godkänns fakturaraden på rad "24" i "fakturor.csv"
    Och ger avstämningen "helår" för mottagare "Närhälsan" återbetalning "50 402 kr"

  # ---- Lokala projekt: ansökan senast 2018-02-28 -------------------------------------------

  Scenariomall: Bara projekt som sökts senast 2018-02-28 ersätts
    Givet att kolumnen "ansökan_inkom" på rad "5" i filen "projekt.csv" är "<ansökan>"
    När utfallet beräknas
    Så får mottagare "Närhälsan" för villkor "4" "<belopp>"

    Exempel:
      | ansökan    | belopp        |
      | 2018-02-28 | 10 900 000 kr |
      | 2018-03-01 | 10 500 000 kr |
      | 2018-03-05 | 10 500 000 kr |

  Scenario: Ett projekt sökt i tid men inte fakturerat ger att betala vid helåret
    Givet att kolumnen "ansökan_inkom" på rad "5" i filen "projekt.csv" är "2018-02-28"
    När utfallet beräknas
    Så får mottagare "Närhälsan" totalt "79 000 411 kr"
    Och ger avstämningen "helår" för mottagare "Närhälsan" att betala "400 000 kr"

  # Kontrollen summerar projekten som sökts i tid (rad 2–4; rad 5 kom 2018-03-05): 10 500 000 kr
  # i exemplet, tolerans 500 000 kr kring "cirka 10 500 000 kronor", alltså 10 000 000–11 000 000 kr.
  Scenariomall: De beviljade projekten inom toleransen
    Givet att kolumnen "beviljat" på rad "<rad>" i filen "projekt.csv" är "<beviljat>"
    När utfallet beräknas
    Så är kontrollen "Beviljade lokala projekt är cirka 10 500 000 kr (±500 000 kr)" uppfylld

    Exempel:
      | rad | beviljat | summa beviljat |
      | 2   | 4700000  | 11 000 000     |
      | 3   | 2800000  | 10 000 000     |

  Scenariomall: De beviljade projekten utanför toleransen stoppar beräkningen
    Givet att kolumnen "beviljat" på rad "<rad>" i filen "projekt.csv" är "<beviljat>"
    När utfallet beräknas
    Så är kontrollen "Beviljade lokala projekt är cirka 10 500 000 kr (±500 000 kr)" inte uppfylld
    Och felet nämner "tolerans 500000"

    Exempel:
      | rad | beviljat | summa beviljat |
      | 2   | 4700001  | 11 000 001     |
      | 3   | 2799999  | 9 999 999      |

  # ---- Återrapporteringen: villkor 5.1 (2018-09-01) och 5.2 (2019-01-15) --------------------

  Scenariomall: Återrapporterna prövas mot sina frister
    Givet att kolumnen "inkom" för "Närhälsan" i filen "<fil>" är "<inkom>"
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "<villkor>" "<utfall>"
    Och får mottagare "Närhälsan" totalt "78 600 411 kr"

    Exempel:
      | fil                    | villkor | inkom      | utfall          |
      | rapport-2018-09-01.csv | 5.1     | 2018-09-01 | uppfyllt        |
      | rapport-2018-09-01.csv | 5.1     | 2018-09-02 | bedömning krävs |
      | rapport-2019-01-15.csv | 5.2     | 2019-01-15 | uppfyllt        |
      | rapport-2019-01-15.csv | 5.2     | 2019-01-16 | bedömning krävs |

  Scenario: Utan halvårsrapport saknas underlag för villkor 5.1
    Givet att filen "rapport-2018-09-01.csv" saknas
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "5.1" "underlag saknas"
    Och är utfallet för mottagare "Närhälsan" och villkor "5.2" "uppfyllt"
    Och får mottagare "Närhälsan" totalt "78 600 411 kr"

  # Åtagandena 1–4 prövas mot helårsrapporten: utan den kan inget belopp bestämmas.
  Scenario: Utan helårsrapport saknas underlag för villkor 5.2 och för åtagandena
    Givet att filen "rapport-2019-01-15.csv" saknas
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "5.2" "underlag saknas"
    Och är utfallet för mottagare "Närhälsan" och villkor "5.1" "uppfyllt"
    Och är utfallet för mottagare "Närhälsan" och villkor "1" "underlag saknas"
    Och saknar mottagare "Närhälsan" belopp för villkor "2"
    Och saknar mottagare "Närhälsan" belopp för villkor "summa"
    Och är utfallet för mottagare "Närhälsan" och villkor "helår" "underlag saknas"

  Scenariomall: En obesvarad fråga i rapporten ger underlag saknas för sitt villkor
    Givet att kolumnen "<fråga>" för "Närhälsan" i filen "<fil>" är tom
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "<villkor>" "underlag saknas"
    Och är utfallet för mottagare "Närhälsan" och villkor "<opåverkat>" "uppfyllt"

    Exempel:
      | fil                    | fråga                         | villkor | opåverkat |
      | rapport-2019-01-15.csv | fma_omfattning                | 1       | 2         |
      | rapport-2019-01-15.csv | verksamheter_rehabkoordinator | 2       | 3         |
      | rapport-2019-01-15.csv | processledning_samarbete      | 3       | 4         |
      | rapport-2019-01-15.csv | lokala_projekt_medel          | 4       | 1         |
      | rapport-2018-09-01.csv | sammanhållen_process          | 5.1     | 5.2       |

  # ---- Fakturorna ------------------------------------------------------------------------

  # En regel som bryts ger en anmärkning på just den raden; de andra 47 raderna godkänns.
  # Rad 13 är decemberfakturan för 90152: med en krona till blir summan 7 500 001 kr.
  Scenariomall: En faktura som bryter mot en regel avvisas, de andra godkänns
    Givet att kolumnen "<kolumn>" på rad "<rad>" i filen "fakturor.csv" är "<värde>"
    När utfallet beräknas
    Så avvisas fakturaraden på rad "<rad>" i "fakturor.csv" med anmärkningen "<anmärkning>"
    Och har fakturaraden på rad "<rad>" i "fakturor.csv" "1" anmärkning
    Och avvisas "1" fakturarader
    Och godkänns fakturaraden på rad "2" i "fakturor.csv"

    Exempel:
      | regel              | kolumn      | rad | värde   | anmärkning                                                     |
      | fel beställarid    | beställarid | 3   | 6080002 | beställarid är 6080002, ska vara 6080001                       |
      | fel kundnummer     | kundnummer  | 16  | I71103  | kundnummer är I71103, ska vara I71102                          |
      | okänd produktkod   | produktkod  | 28  | 90157   | okänd produktkod 90157                                         |
      | månad utanför året | månad       | 40  | 2019-01 | månaden 2019-01 ligger utanför perioden 2018-01-01–2018-12-31  |
      | felskriven månad   | månad       | 41  | 2018-13 | månaden `2018-13` ska skrivas ÅÅÅÅ-MM                          |
      | belopp saknas      | belopp      | 42  |         | belopp saknas                                                  |
      | över beviljat      | belopp      | 13  | 625001  | blir 7 500 001 kr till och med 2018-12, mer än beviljat 7 500 000 kr |

  # Rad 50: kolumnerna fakturanummer, antal och beskrivning lämnas tomma.
  Scenario: En extra faktura för processledningen går över det beviljade
    Givet följande rader läggs till i filen "fakturor.csv":
      | utförare  | beställarid | kundnummer | produktkod | månad   | belopp |
      | Närhälsan | 6080001     | I71102     | 90154      | 2018-12 | 1      |
    När utfallet beräknas
    Så avvisas fakturaraden på rad "50" i "fakturor.csv" med anmärkningen "mer än beviljat 10 800 000 kr"
    Och godkänns fakturaraden på rad "37" i "fakturor.csv"
    Och avvisas "1" fakturarader
