//! `lindung bills list | issue | pay`: a subsidy's monthly bills over `ContributionService`. Issuing a bill again
//! adds only adjustment lines and a payment is keyed by its reference, so sending any of these twice is safe.

use super::{checked_all, count, json, refused, report, rupiah, word};
use crate::{
    config::{BillsCommand, IssueBillArgs, ListBillsArgs, PayBillArgs},
    contribution::grpc::{month, parse_payment},
    proto::v1::{self as pb, contribution_service_client::ContributionServiceClient},
    validate::parse_id,
};

pub async fn run(command: BillsCommand) -> anyhow::Result<()> {
    match command {
        BillsCommand::List(args) => list(args).await,
        BillsCommand::Issue(args) => issue(args).await,
        BillsCommand::Pay(args) => pay(args).await,
    }
}

async fn client(server: &crate::config::ServerArgs) -> anyhow::Result<ContributionServiceClient<super::Authed>> {
    Ok(ContributionServiceClient::new(super::connect(server).await?))
}

async fn list(args: ListBillsArgs) -> anyhow::Result<()> {
    // ListBills answers every month; one month is picked here.
    let (only, month_checked) = match args.month.as_deref().map(month).transpose() {
        Ok(only) => (only.map(|m| m.to_string()), Ok(())),
        Err(error) => (None, Err(error)),
    };
    checked_all(vec![parse_id(&args.subsidy, "subsidy_id").map(drop), month_checked])?;
    let request = pb::ListBillsRequest { subsidy_id: args.subsidy.clone() };
    let mut answer = client(&args.server).await?.list_bills(request).await.map_err(refused)?.into_inner();
    answer.bills.retain(|b| only.as_ref().is_none_or(|m| &b.month == m));
    if args.json {
        println!("{}", json("lindung.v1.ListBillsResponse", &answer)?);
        return Ok(());
    }
    print!("{}", bills_table(&answer));
    Ok(())
}

/// The bills as a table, then the credit left for the next bills.
fn bills_table(answer: &pb::ListBillsResponse) -> String {
    let rows: Vec<Vec<String>> = answer
        .bills
        .iter()
        .map(|b| {
            vec![
                b.month.clone(),
                count(b.workers),
                rupiah(b.billed.as_ref()),
                rupiah(b.paid.as_ref()),
                rupiah(b.outstanding.as_ref()),
                state(b),
            ]
        })
        .collect();
    let header = ["month", "workers", "billed", "paid", "outstanding", "status"];
    format!("{}credit: {}\n", report::table(&header, &rows, &[1, 2, 3, 4]), rupiah(answer.credit.as_ref()))
}

fn state(bill: &pb::Bill) -> String {
    word(bill.state().as_str_name(), "BILL_STATE_")
}

async fn issue(args: IssueBillArgs) -> anyhow::Result<()> {
    checked_all(vec![parse_id(&args.subsidy, "subsidy_id").map(drop), month(&args.month).map(drop)])?;
    let request = pb::IssueBillRequest { subsidy_id: args.subsidy.clone(), month: args.month.clone() };
    let answer = client(&args.server).await?.issue_bill(request).await.map_err(refused)?.into_inner();
    let bill = answer.bill.unwrap_or_default();
    let added = match answer.lines_added {
        0 => "no line added: the bill was issued already and nothing changed since".to_owned(),
        n => format!("{n} lines added"),
    };
    println!(
        "bill {} for {}: {} workers, billed {} (JKK {}, JKM {}), paid {}, outstanding {}, {}; {added}",
        bill.id,
        bill.month,
        count(bill.workers),
        rupiah(bill.billed.as_ref()),
        rupiah(bill.jkk.as_ref()),
        rupiah(bill.jkm.as_ref()),
        rupiah(bill.paid.as_ref()),
        rupiah(bill.outstanding.as_ref()),
        state(&bill),
    );
    Ok(())
}

async fn pay(args: PayBillArgs) -> anyhow::Result<()> {
    let request = pb::RecordPaymentRequest {
        subsidy_id: args.subsidy.clone(),
        amount: Some(pb::Rupiah { amount: args.amount.clone() }),
        paid_on: args.paid_on.clone(),
        reference: args.reference.clone(),
    };
    checked_all(vec![parse_id(&request.subsidy_id, "subsidy_id").map(drop), parse_payment(&request).map(drop)])?;
    let answer = client(&args.server).await?.record_payment(request).await.map_err(refused)?.into_inner();
    println!(
        "payment {} of {} on {}, reference {}: recorded (a resend of this reference records nothing more); credit \
         for the next bills {}",
        answer.payment_id,
        rupiah(Some(&pb::Rupiah { amount: args.amount })),
        args.paid_on,
        args.reference,
        rupiah(answer.credit.as_ref()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bills_read_as_a_table_with_amounts_in_rupiah() {
        let r = |a: &str| Some(pb::Rupiah { amount: a.into() });
        let bill = pb::Bill {
            month: "2025-09".into(),
            workers: 7894,
            billed: r("132619200"),
            paid: r("100000000"),
            outstanding: r("32619200"),
            state: pb::BillState::PartiallyPaid as i32,
            ..Default::default()
        };
        let answer = pb::ListBillsResponse { bills: vec![bill], credit: r("0") };
        assert_eq!(
            bills_table(&answer),
            "month    workers         billed           paid   outstanding  status\n\
             2025-09    7,894  Rp132,619,200  Rp100,000,000  Rp32,619,200  partially paid\n\
             credit: Rp0\n"
        );
    }
}
