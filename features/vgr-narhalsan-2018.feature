# language: sv
Egenskap: Tillkommande ersättning 2018 till Närhälsan för sjukskrivnings- och rehabiliteringsprocessen
  Som handläggare på Styrelsen för Beställd primärvård
  vill jag att verktyget beräknar de fyra åtagandena exakt, prövar återrapporterna mot
  fristerna och månadsfakturorna mot anvisningen och stämmer av helåret,
  så att utbetalningen stämmer med anvisningens ersättningstabell.

  Exempeldatan: 60 vårdcentraler med sammanlagt 1 196 550 listade 16–67 år, alla listade per
  2018-01-01 (vårdcentral 1 på rad 2 i listade.csv har 21 387). projekt.csv har regionens lokala
  projekt: Närhälsans fyra på rad 2–5 (2 100 000 + 1 650 000 + 1 500 000 kr i tid, och rad 5,
  400 000 kr, sökt för sent 2018-03-05) och sjukhusens tre på rad 6–8 (SU, SkaS, NU), som inte är
  mottagare här (varning V210). Båda återrapporterna kom i tid, och fakturor.csv har 48
  månadsfakturor: rad 2–13 är 90152 (januari–december), rad 14–25 är 90153, rad 26–37 är 90154,
  rad 38–49 är 90155 (12 × 437 500 = 5 250 000 kr).

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-narhalsan-2018.villkor"
    Och exempeldata från "examples/vgr-narhalsan-2018"

  # ---- Ersättningstabellen --------------------------------------------------------------

  # 90152: 7 500 000 kr. 90153: 624 300 × 1 196 550 / 15 000 = 49 800 411 kr (exakt).
  # 90154: 10 800 000 kr. 90155: Närhälsans egna projekt i tid, 2 100 000 + 1 650 000 + 1 500 000
  # = 5 250 000 kr (utan den sena på 400 000 kr och utan sjukhusens projekt).
  # Summa: 7 500 000 + 49 800 411 + 10 800 000 + 5 250 000 = 73 350 411 kr.
  Scenariomall: Exempeldatan ger anvisningens belopp
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "<villkor>" "uppfyllt"
    Och får mottagare "Närhälsan" för villkor "<villkor>" "<belopp>"

    Exempel:
      | villkor | belopp        |
      | 1       | 7 500 000 kr  |
      | 2       | 49 800 411 kr |
      | 3       | 10 800 000 kr |
      | 4       | 5 250 000 kr  |
      | summa   | 73 350 411 kr |

  # Helåret: fakturerat 7 500 000 + 49 800 411 + 10 800 000 + 5 250 000 = 73 350 411 kr, lika
  # med intjänat (alla fyra åtagandena uppfyllda): 73 350 411 − 73 350 411 = 0 kr.
  # 7 500 000 + 49 800 000 + 10 800 000 = 68 100 000 kr: tabellens cirka-summa stämmer exakt.
  Scenario: Exempeldatan: rapporterna i tid, alla fakturor godkända och ingen differens vid helåret
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "5.1" "uppfyllt"
    Och är utfallet för mottagare "Närhälsan" och villkor "5.2" "uppfyllt"
    Och saknar mottagare "Närhälsan" belopp för villkor "5.1"
    Och godkänns alla fakturarader
    Och ger avstämningen "helår" för mottagare "Närhälsan" ingen differens
    Och säger anmärkningen för mottagare "Närhälsan" och villkor "helår" "fakturerat 73 350 411 kr, intjänat 73 350 411 kr"
    Och är kontrollen "Beloppen i ersättningstabellen summerar till cirka 68 100 000 kr" uppfylld
    Och är kontrollen "Lokal processledning motsvarar knappt 13 tjänstefaktorer" uppfylld
    Och är kontrollen "De listade räknas per 2018-01-01" uppfylld

  # Sjukhusens projekt (rad 6–8: SU, SkaS, NU) hör till regionens pott men inte till någon
  # mottagare i den här överenskommelsen: en varning, inget stopp och inget belopp.
  Scenario: Sjukhusens beviljade projekt ger en varning men räknas inte för Närhälsan
    När utfallet beräknas
    Så varnar beräkningen med "V210"
    Och varningen nämner "rad 6, 7, 8"
    Och får mottagare "Närhälsan" för villkor "4" "5 250 000 kr"

  # ---- Rehabiliteringskoordinering: 624 300 kr per 15 000 listade -------------------------

  # Vårdcentral 1 ändras; summan av de listade blir 1 196 550 − 21 387 + <listade>.
  # Belopp = 624 300 × listade / 15 000 = 41,62 kr per listad, avrundat till hela kronor, halvt uppåt:
  #   1 196 550 × 41,62 = 49 800 411,00 → 49 800 411 kr (skillnad mot cirka-värdet: 411)
  #   1 196 525 × 41,62 = 49 799 370,50 → 49 799 371 kr (skillnad −629,50)
  #   1 197 741 × 41,62 = 49 849 980,42 → 49 849 980 kr (skillnad 49 980,42)
  #   1 195 339 × 41,62 = 49 750 009,18 → 49 750 009 kr (skillnad −49 990,82)
  #   1 197 742 × 41,62 = 49 850 022,04 → 49 850 022 kr (skillnad 50 022,04)
  #   1 195 338 × 41,62 = 49 749 967,56 → 49 749 968 kr (skillnad −50 032,44)
  # "cirka 49 800 000 kronor" är inget exakt belopp och ingen tolerans: varje avvikelse, stor som
  # liten, är en varning V162 med det exakta beloppet (oavrundat) att bedöma, aldrig ett stopp.
  Scenariomall: Rehabkoordineringen räknas från de listade; en avvikelse från cirka-beloppet varnar
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "<listade>"
    När utfallet beräknas
    Så lyckas beräkningen
    Och får mottagare "Närhälsan" för villkor "2" "<belopp>"
    Och varnar beräkningen med "V162"
    Och varningen nämner "Rehabkoordineringen enligt de listade är cirka 49 800 000 kr"
    Och varningen nämner "<exakt> är inte exakt cirka-värdet 49 800 000 kr: skillnad <skillnad>"

    Exempel:
      | listade | summa listade | belopp        | exakt            | skillnad      |
      | 21387   | 1 196 550     | 49 800 411 kr | 49 800 411 kr    | +411 kr       |
      | 21362   | 1 196 525     | 49 799 371 kr | 49 799 370,50 kr | −629,50 kr    |
      | 22578   | 1 197 741     | 49 849 980 kr | 49 849 980,42 kr | +49 980,42 kr |
      | 20176   | 1 195 339     | 49 750 009 kr | 49 750 009,18 kr | −49 990,82 kr |
      | 22579   | 1 197 742     | 49 850 022 kr | 49 850 022,04 kr | +50 022,04 kr |
      | 20175   | 1 195 338     | 49 749 968 kr | 49 749 967,56 kr | −50 032,44 kr |

  # Samma listade som ovan men en rad (vårdcentral 1) räknad per ett annat datum: källan räknar de
  # listade 2018-01-01, så kontrollen håller inte (en rad, antal 1 ≠ 0) och beräkningen stoppas,
  # vad cirka-kontrollen än säger.
  Scenariomall: Listade räknade per ett annat datum än 2018-01-01 stoppar beräkningen
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "<listade>"
    Och att kolumnen "listad_per" på rad "2" i filen "listade.csv" är "<listad per>"
    När utfallet beräknas
    Så är kontrollen "De listade räknas per 2018-01-01" inte uppfylld
    Och misslyckas beräkningen med felet "V160"
    Och felet nämner "vänster sida 1, höger sida 0"

    Exempel:
      | listade | listad per |
      | 21387   | 2017-12-31 |
      | 21387   | 2018-01-02 |
      | 22579   | 2018-12-31 |
      | 20175   | 2018-06-30 |

  # Taket för 90153 blir 624 300 × 1 195 339 / 15 000 = 49 750 009,18 kr; decemberfakturan (rad 25)
  # tar summan till 11 × 4 150 034 + 4 150 037 = 49 800 411 kr.
  # Helåret: intjänat 7 500 000 + 49 750 009,18 + 10 800 000 + 5 250 000 = 73 300 009,18, avrundat
  # 73 300 009 kr; fakturerat 73 350 411 kr; 73 300 009 − 73 350 411 = −50 402 kr: en möjlig
  # återbetalning som en person avgör ("kan väckas"), inget belopp.
  Scenario: Färre listade: decemberfakturan för 90153 går över taket och en möjlig återbetalning visas
    Givet att kolumnen "listade_16_67" på rad "2" i filen "listade.csv" är "20176"
    När utfallet beräknas
    Så avvisas fakturaraden på rad "25" i "fakturor.csv" med anmärkningen "mer än beviljat 49 750 009,18 kr"
    Och avvisas "1" fakturarader
    Och godkänns fakturaraden på rad "24" i "fakturor.csv"
    Och är utfallet för mottagare "Närhälsan" och villkor "helår" "bedömning krävs"
    Och saknar mottagare "Närhälsan" belopp för villkor "helår"
    Och ger avstämningen "helår" för mottagare "Närhälsan" möjlig återbetalning "50 402 kr"
    Och säger förklaringen för mottagare "Närhälsan" och villkor "helår" "kan fråga om återbetalningsskyldighet väckas"

  # ---- Lokala projekt: ansökan senast 2018-02-28 -------------------------------------------

  # Närhälsans projekt i tid: 2 100 000 + 1 650 000 + 1 500 000 = 5 250 000 kr; med rad 5 i tid
  # 5 250 000 + 400 000 = 5 650 000 kr.
  Scenariomall: Bara projekt som sökts senast 2018-02-28 ersätts
    Givet att kolumnen "ansökan_inkom" på rad "5" i filen "projekt.csv" är "<ansökan>"
    När utfallet beräknas
    Så får mottagare "Närhälsan" för villkor "4" "<belopp>"

    Exempel:
      | ansökan    | belopp       |
      | 2018-02-28 | 5 650 000 kr |
      | 2018-03-01 | 5 250 000 kr |
      | 2018-03-05 | 5 250 000 kr |

  # Summa 73 350 411 + 400 000 = 73 750 411 kr; helåret 73 750 411 − 73 350 411 = 400 000 kr.
  Scenario: Ett projekt sökt i tid men inte fakturerat ger att betala vid helåret
    Givet att kolumnen "ansökan_inkom" på rad "5" i filen "projekt.csv" är "2018-02-28"
    När utfallet beräknas
    Så får mottagare "Närhälsan" totalt "73 750 411 kr"
    Och ger avstämningen "helår" för mottagare "Närhälsan" att betala "400 000 kr"
    Och är utfallet för mottagare "Närhälsan" och villkor "helår" "uppfyllt"

  # Ett sjukhusprojekt (rad 6, SU) är inte Närhälsans hur stort det än är: villkor 4 är fortfarande
  # 2 100 000 + 1 650 000 + 1 500 000 = 5 250 000 kr.
  Scenario: Sjukhusens projekt räknas inte till Närhälsans lokala projekt
    Givet att kolumnen "beviljat" på rad "6" i filen "projekt.csv" är "9000000"
    När utfallet beräknas
    Så får mottagare "Närhälsan" för villkor "4" "5 250 000 kr"
    Och får mottagare "Närhälsan" totalt "73 350 411 kr"
    Och ger avstämningen "helår" för mottagare "Närhälsan" ingen differens

  # Taket `högst` för 90155 är det Närhälsan själv beviljats, 5 250 000 kr, inte hela regionens
  # 5 250 000 + 2 200 000 (SU) + 1 800 000 (SkaS) + 1 250 000 (NU) = 10 500 000 kr.
  # Rad 50 är en extra 90155-faktura i december från Närhälsan:
  #   1 kr:         5 250 000 + 1         = 5 250 001 kr  > 5 250 000: avvisas
  #   5 250 000 kr: 5 250 000 + 5 250 000 = 10 500 000 kr > 5 250 000: avvisas (ryms i regionens pott)
  # Helåret: fakturerat 73 350 411 + <extra>, intjänat 73 350 411; differensen −<extra> är en möjlig
  # återbetalning.
  Scenariomall: Taket för lokala projekt (90155) är Närhälsans eget beviljade belopp
    Givet följande rader läggs till i filen "fakturor.csv":
      | utförare  | beställarid | kundnummer | produktkod | månad   | belopp  |
      | Närhälsan | 6080001     | I71102     | 90155      | 2018-12 | <extra> |
    När utfallet beräknas
    Så avvisas fakturaraden på rad "50" i "fakturor.csv" med anmärkningen "sammanlagt fakturerat för 90155 blir <summa> till och med 2018-12, mer än beviljat 5 250 000 kr"
    Och har fakturaraden på rad "50" i "fakturor.csv" "1" anmärkning
    Och avvisas "1" fakturarader
    Och godkänns fakturaraden på rad "49" i "fakturor.csv"
    Och ger avstämningen "helår" för mottagare "Närhälsan" möjlig återbetalning "<återbetalning>"

    Exempel:
      | extra   | summa         | återbetalning |
      | 1       | 5 250 001 kr  | 1 kr          |
      | 5250000 | 10 500 000 kr | 5 250 000 kr  |

  # Decemberfakturan för 90155 (rad 49) höjs med 1 kr till 437 501 kr: 11 × 437 500 + 437 501 =
  # 5 250 001 kr, en krona över Närhälsans 5 250 000 kr. Med rad 5 sökt i tid är taket
  # 5 650 000 kr och samma faktura godkänns.
  Scenariomall: Decemberfakturan för lokala projekt prövas mot Närhälsans beviljade belopp
    Givet att kolumnen "ansökan_inkom" på rad "5" i filen "projekt.csv" är "<ansökan>"
    Och att kolumnen "belopp" på rad "49" i filen "fakturor.csv" är "437501"
    När utfallet beräknas
    Så avvisas "<avvisade>" fakturarader

    Exempel:
      | ansökan    | tak          | avvisade |
      | 2018-03-05 | 5 250 000 kr | 1        |
      | 2018-02-28 | 5 650 000 kr | 0        |

  # ---- Återrapporteringen: villkor 5.1 (2018-09-01) och 5.2 (2019-01-15) --------------------

  Scenariomall: Återrapporterna prövas mot sina frister
    Givet att kolumnen "inkom" för "Närhälsan" i filen "<fil>" är "<inkom>"
    När utfallet beräknas
    Så är utfallet för mottagare "Närhälsan" och villkor "<villkor>" "<utfall>"
    Och får mottagare "Närhälsan" totalt "73 350 411 kr"

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
    Och får mottagare "Närhälsan" totalt "73 350 411 kr"

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
